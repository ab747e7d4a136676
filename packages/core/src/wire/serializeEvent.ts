import { SSEError } from '../sseError.js'
import type { SSEEvent } from '../types.js'

const LINE_BREAK = /\r\n|\r|\n/

/** Prefixes every line of `text` (split on CR, LF and CRLF) with `field`, LF-terminated. */
function fieldLines(field: string, text: string): string {
  if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) return `${field}${text}\n`
  let out = ''
  for (const line of text.split(LINE_BREAK)) out += `${field}${line}\n`
  return out
}

function dataText(data: unknown): string {
  if (typeof data === 'string') return data
  // String objects (such as the result of the `html` template tag) are text too.
  if (data instanceof String) return data.valueOf()
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch (cause) {
    throw new SSEError('INVALID_EVENT', '@sse/core: event data could not be JSON-encoded', {
      cause,
    })
  }
  if (text === undefined) {
    throw new SSEError(
      'INVALID_EVENT',
      `@sse/core: event data of type ${typeof data} has no JSON form; pass a string or a JSON value`,
    )
  }
  return text
}

/** Throws the typed error for an event name that would break out of its `event:` line. */
export function assertEventName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new SSEError(
      'INVALID_EVENT_NAME',
      `@sse/core: event name must be a string, got ${typeof name}`,
    )
  }
  if (name.indexOf('\n') !== -1 || name.indexOf('\r') !== -1) {
    throw new SSEError(
      'INVALID_EVENT_NAME',
      `@sse/core: event name must not contain CR or LF, got ${JSON.stringify(name)}`,
    )
  }
}

/** Throws the typed error for an id that would break out of its `id:` line or be ignored by clients. */
export function assertEventId(id: unknown): asserts id is string {
  if (typeof id !== 'string') {
    throw new SSEError('INVALID_EVENT_ID', `@sse/core: event id must be a string, got ${typeof id}`)
  }
  if (id.indexOf('\n') !== -1 || id.indexOf('\r') !== -1 || id.indexOf('\0') !== -1) {
    throw new SSEError(
      'INVALID_EVENT_ID',
      `@sse/core: event id must not contain CR, LF or NUL, got ${JSON.stringify(id)}`,
    )
  }
}

/** Throws the typed error for a `retry` that is not a non-negative integer. */
export function assertRetry(retry: unknown): asserts retry is number {
  if (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0) {
    throw new SSEError(
      'INVALID_RETRY',
      `@sse/core: retry must be a non-negative integer (ms), got ${String(retry)}`,
    )
  }
}

/**
 * Returns the exact wire text of one event: LF line endings, one `data:` line per payload line,
 * exactly one space after each colon, and a terminating blank line. Fields come in the order
 * `id`, `event`, `retry`, comment, `data`.
 *
 * Throws an {@link SSEError} (`INVALID_EVENT_NAME`, `INVALID_EVENT_ID`, `INVALID_RETRY`, `INVALID_EVENT`)
 * before producing anything when a field could inject other fields or cannot be written.
 *
 * @example
 * serializeEvent({ event: 'note', data: '<li>hi</li>' }) // 'event: note\ndata: <li>hi</li>\n\n'
 */
export function serializeEvent(event: SSEEvent): string {
  return serializeFields(event, event.id, event.event)
}

/**
 * Serializes `event` with the given id and name instead of its own (`undefined` leaves the field
 * out). The broker uses it to build a body once and let the transport put the id in front.
 * @internal
 */
export function serializeFields(
  event: SSEEvent,
  id: string | undefined,
  name: string | undefined,
): string {
  let out = ''
  if (id !== undefined) {
    assertEventId(id)
    out += `id: ${id}\n`
  }
  if (name !== undefined) {
    assertEventName(name)
    out += `event: ${name}\n`
  }
  if (event.retry !== undefined) {
    assertRetry(event.retry)
    out += `retry: ${event.retry}\n`
  }
  if (event.comment !== undefined) {
    if (typeof event.comment !== 'string') {
      throw new SSEError(
        'INVALID_EVENT',
        `@sse/core: comment must be a string, got ${typeof event.comment}`,
      )
    }
    out += fieldLines(': ', event.comment)
  }
  if (event.data !== undefined) out += fieldLines('data: ', dataText(event.data))
  return `${out}\n`
}

/**
 * Serializes an event once into bytes, to write the same `Buffer` to many sockets.
 *
 * @example
 * const frame = encodeEvent({ data: 'hello' })
 * for (const res of clients) res.write(frame)
 */
export function encodeEvent(event: SSEEvent): Buffer {
  return Buffer.from(serializeEvent(event))
}
