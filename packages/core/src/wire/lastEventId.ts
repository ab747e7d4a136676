import type { SSERequest } from '../types.js'

/** Longest event id a client can resume from; the broker refuses longer ids at publish. */
export const MAX_LAST_EVENT_ID_LENGTH = 256

/**
 * What the broker asks the transport to replay from when a client sent a `Last-Event-ID` it cannot
 * resume from (too long, control characters): no transport knows it, so the client gets the reset
 * event instead of silence.
 */
export const UNUSABLE_LAST_EVENT_ID = '\u0000unusable'

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: any byte outside ASCII
const NON_ASCII = /[^\u0000-\u007f]/

/**
 * Whether a client can resume from `id`: at most {@link MAX_LAST_EVENT_ID_LENGTH} characters and no
 * control characters. The broker refuses other ids at publish, so publish and resume agree.
 */
export function isResumableId(id: string): boolean {
  return id.length <= MAX_LAST_EVENT_ID_LENGTH && !CONTROL.test(id)
}

/** The raw value the client sent, or `undefined`: the header first, then `?lastEventId=`. */
function rawLastEventId(request: SSERequest): string | undefined {
  const header = request.headers['last-event-id']
  if (header !== undefined) {
    const value = Array.isArray(header) ? header[0] : header
    if (value === undefined || !NON_ASCII.test(value)) return value
    // Node reads header bytes as Latin-1; browsers send the id UTF-8 encoded. Bytes that are not
    // UTF-8 stay as read.
    const utf8 = Buffer.from(value, 'latin1').toString('utf8')
    return utf8.includes('\uFFFD') ? value : utf8
  }
  const url = request.url ?? ''
  const query = url.indexOf('?')
  if (query === -1 || url.indexOf('lastEventId=', query) === -1) return undefined
  return new URLSearchParams(url.slice(query + 1)).get('lastEventId') ?? undefined
}

/**
 * Reads the client's last event id: the `Last-Event-ID` header, or, when that is absent, the
 * `lastEventId` query parameter (a fresh `EventSource`, as htmx-ext-sse creates after a failure,
 * cannot send the header). A value over 256 characters or with control characters counts as absent
 * here; the broker answers it with the reset event.
 */
export function readLastEventId(request: SSERequest): string | undefined {
  const value = rawLastEventId(request)
  return value !== undefined && isResumableId(value) ? value : undefined
}

/**
 * What the broker resumes a client from: `undefined` when it sent no id, its id when usable, and
 * {@link UNUSABLE_LAST_EVENT_ID} otherwise.
 * @internal
 */
export function readResumeId(request: SSERequest): string | undefined {
  const value = rawLastEventId(request)
  if (value === undefined) return undefined
  return isResumableId(value) ? value : UNUSABLE_LAST_EVENT_ID
}
