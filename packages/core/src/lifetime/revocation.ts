import { diagnostics } from '../diagnostics.js'
import { kindOf, SSEError } from '../sseError.js'
import type { SSEStream } from '../stream/sseStream.js'
import type { BrokerCounters } from '../subscribers/brokerCounters.js'
import type { Subscriber } from '../subscribers/subscriber.js'
import type { ControlMessage, Transport } from '../types.js'
import { encodeEvent } from '../wire/serializeEvent.js'
import { isTagList, readSelector } from '../wire/tags.js'
import { TagIndex } from './tagIndex.js'

/** What revocation needs of the broker. */
export interface RevocationContext {
  /** The broker, as diagnostics messages name it. */
  readonly broker: object
  readonly counters: BrokerCounters
  readonly transport: Transport
  /** A control message the transport could not send: counted, reported; the rejection to return. */
  failed(cause: unknown): Promise<never>
  /** A control message was sent: the transport is up. */
  sent(): void
  report(error: SSEError): void
}

function ignore(): void {}

/**
 * Reads the options of `broker.disconnect()` into the final frame, serialized once (or none).
 * Throws an {@link SSEError}: `INVALID_OPTION` for options that are not `{ event? }`, and the
 * serializer's `INVALID_*` for an event that cannot be written.
 */
function readFinalFrame(options: unknown): Buffer | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/core: disconnect() options must be an object, got ${kindOf(options)}`,
    )
  }
  const { event, ...rest } = options as { event?: unknown }
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/core: unknown disconnect() option "${unknown}" (known options: event)`,
    )
  }
  if (event === undefined) return undefined
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new SSEError(
      'INVALID_EVENT',
      `@sse/core: disconnect() option "event" must be an event object, got ${kindOf(event)}`,
    )
  }
  return encodeEvent(event)
}

/** The control message as `disconnect()` sends it to other instances. */
function disconnectMessage(tags: readonly string[], frame: Buffer | undefined): ControlMessage {
  return frame === undefined
    ? { type: 'disconnect', tags }
    : { type: 'disconnect', tags, frame: frame.toString() }
}

/**
 * A control message from the transport, checked (another instance, or anyone who can write to the
 * transport, sent it): its tags and final frame, or `undefined` when it is not a well-formed
 * `disconnect`.
 */
function readControlMessage(
  message: unknown,
): { tags: readonly string[]; frame: Buffer | undefined } | undefined {
  if (typeof message !== 'object' || message === null) return undefined
  const { type, tags, frame } = message as Partial<Record<keyof ControlMessage, unknown>>
  if (type !== 'disconnect' || !isTagList(tags) || tags.length === 0) return undefined
  if (frame !== undefined && typeof frame !== 'string') return undefined
  return { tags, frame: frame === undefined ? undefined : Buffer.from(frame) }
}

/** Writes the final frame, if any, and ends the stream (what is queued goes out first). */
function endStream(stream: SSEStream, frame: Buffer | undefined): void {
  if (frame !== undefined) stream.sendFrame(frame)
  stream.close()
}

/**
 * The broker's tagged streams, and ending them by tag (`broker.disconnect()`), whether the request
 * comes from this instance or, through the transport, from another. A stream still waiting for its
 * `authorize` verdict is ended as soon as it opens, so a verdict read before the revocation cannot
 * let it through. An ended client that reconnects is a new request: `authorize` runs again.
 */
export class Revocation {
  readonly #context: RevocationContext
  readonly #index = new TagIndex<Subscriber>()
  /** Streams revoked while waiting for their verdict, with the final frame they get once open. */
  readonly #pending = new Map<Subscriber, Buffer | undefined>()

  constructor(context: RevocationContext) {
    this.#context = context
  }

  /** Distinct tags carried by this instance's streams. */
  get tags(): number {
    return this.#index.size
  }

  /** An admitted stream (open or waiting for its verdict) becomes findable by its tags. */
  track(subscriber: Subscriber): void {
    if (subscriber.tags.length > 0) this.#index.add(subscriber)
  }

  /** A stream closed. */
  untrack(subscriber: Subscriber): void {
    if (subscriber.tags.length === 0) return
    this.#index.delete(subscriber)
    this.#pending.delete(subscriber)
  }

  /** A stream just opened: ends it, and answers `true`, if it was revoked while waiting. */
  endIfRevoked(subscriber: Subscriber): boolean {
    const pending = this.#pending
    if (pending.size === 0 || !pending.has(subscriber)) return false
    const frame = pending.get(subscriber)
    pending.delete(subscriber)
    endStream(subscriber.stream, frame)
    return true
  }

  /**
   * `broker.disconnect()`: ends this instance's matching streams, then sends the other instances the
   * message. Throws an `SSEError` for a bad selector or options; never for the transport.
   */
  disconnect(selector: unknown, options: unknown): Promise<number> {
    const tags = readSelector(selector)
    const frame = readFinalFrame(options)
    const count = this.#end(tags, frame, false)
    const { transport } = this.#context
    if (transport.sendControl === undefined) return Promise.resolve(count)
    let sent: void | Promise<void>
    try {
      sent = transport.sendControl(disconnectMessage(tags, frame))
    } catch (cause) {
      return this.#context.failed(cause)
    }
    const settled = Promise.resolve(sent).then(
      () => {
        this.#context.sent()
        return count
      },
      (cause: unknown) => this.#context.failed(cause),
    )
    settled.catch(ignore)
    return settled
  }

  /** A control message another instance sent, through the transport (checked: it is input). */
  received(message: unknown): void {
    const control = readControlMessage(message)
    if (control === undefined) {
      this.#context.report(
        new SSEError('TRANSPORT_ERROR', '@sse/core: ignored a malformed control message'),
      )
      return
    }
    this.#end(control.tags, control.frame, true)
  }

  /**
   * Ends the streams that carry any of `tags` (open ones now, after `frame`; waiting ones once they
   * open) and answers how many. `remote`: asked by another instance, through the transport.
   */
  #end(tags: readonly string[], frame: Buffer | undefined, remote: boolean): number {
    let count = 0
    for (const subscriber of this.#index.matching(tags)) {
      const stream = subscriber.stream
      if (stream.isOpen) endStream(stream, frame)
      else if (!stream.isClosed && !this.#pending.has(subscriber)) {
        this.#pending.set(subscriber, frame)
      } else continue
      count++
    }
    const { broker, counters } = this.#context
    counters.revoked += count
    if (diagnostics.disconnect.hasSubscribers) {
      diagnostics.disconnect.publish({ broker, tags, count, remote })
    }
    return count
  }
}
