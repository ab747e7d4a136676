import type { AuthorizeHook } from '../options/brokerOptions.js'
import { SSEError } from '../sseError.js'
import type { SSEStream } from '../stream/sseStream.js'
import { RETRY_AFTER, shutdownRefusalHeaders } from '../subscribers/shutdownRefusal.js'
import type { Subscriber } from '../subscribers/subscriber.js'
import type { Transport } from '../types.js'
import { readResumeId } from '../wire/lastEventId.js'
import { failedVerdict, readVerdict, type Verdict } from './authorizeVerdict.js'
import { isThenable } from './isThenable.js'

/** What admission needs of the broker. */
export interface AdmissionContext {
  readonly maxConnections: number
  readonly authorize: AuthorizeHook | undefined
  /** Admitted streams (counted against `maxConnections`). */
  readonly streams: Map<SSEStream, Subscriber>
  /** `true` once the broker is closing. */
  closing(): boolean
  /** Refuses and counts the refusal. */
  refuse(
    stream: SSEStream,
    status: number,
    message: string,
    headers?: Readonly<Record<string, string>>,
  ): void
  report(error: SSEError): void
  /** Asked to follow a stream's topics before its head (`Transport.follow`), if it can. */
  readonly transport: Transport
  /** The head is written: subscribe and replay. */
  opened(subscriber: Subscriber): void
}

/**
 * Lets a stream in, or answers it with a plain status before any SSE byte: 503 while closing or
 * past `maxConnections`, then the `authorize` verdict (sync or async, read the same way), then the
 * head. Nothing here throws, and no refusal leaves a stream counted.
 */
export class Admission {
  readonly #context: AdmissionContext

  constructor(context: AdmissionContext) {
    this.#context = context
  }

  admit(subscriber: Subscriber): void {
    const context = this.#context
    const { stream, group } = subscriber
    if (this.#shuttingDown(subscriber)) return
    if (!subscriber.head) {
      if (context.streams.size >= context.maxConnections) {
        context.refuse(stream, 503, 'Too many open event streams.', RETRY_AFTER)
        return
      }
      context.streams.set(stream, subscriber)
      group?.members.add(stream)
    }
    const authorize = context.authorize
    if (authorize === undefined) {
      this.#follow(subscriber)
      return
    }
    let verdict: unknown
    let pending = false
    try {
      verdict = authorize(stream.request, subscriber.topics)
      pending = isThenable(verdict)
    } catch (cause) {
      this.#decide(subscriber, failedVerdict(cause))
      return
    }
    if (!pending) {
      this.#decide(subscriber, readVerdict(verdict))
      return
    }
    Promise.resolve(verdict).then(
      (result) => this.#decide(subscriber, readVerdict(result)),
      (cause: unknown) => this.#decide(subscriber, failedVerdict(cause)),
    )
  }

  #shuttingDown(subscriber: Subscriber): boolean {
    if (!this.#context.closing() && subscriber.group?.closed !== true) return false
    const { stream } = subscriber
    const headers = shutdownRefusalHeaders(stream.request)
    this.#context.refuse(stream, 503, 'The event stream is shutting down.', headers)
    return true
  }

  /** Acts on a verdict. Never throws: it also runs inside a promise callback. */
  #decide(subscriber: Subscriber, verdict: Verdict): void {
    const context = this.#context
    const stream = subscriber.stream
    if (stream.isClosed || this.#shuttingDown(subscriber)) return
    if (verdict.admit) {
      this.#follow(subscriber)
    } else if ('error' in verdict) {
      context.report(verdict.error)
      context.refuse(stream, 500, 'Authorization failed.')
    } else {
      context.refuse(stream, verdict.status, verdict.message)
    }
  }

  /**
   * Lets the transport start reading the stream's topics (`Transport.follow`), then opens it: a
   * promise holds the head until it settles, a rejection refuses the stream with 503. Never throws.
   */
  #follow(subscriber: Subscriber): void {
    const { transport } = this.#context
    const { stream, topics } = subscriber
    let pending: Promise<void> | undefined
    try {
      if (transport.follow !== undefined && topics.length > 0 && !subscriber.head) {
        subscriber.following = true
        const resumeId = stream.lastEventId ?? readResumeId(stream.request)
        pending = transport.follow(topics, resumeId) as Promise<void> | undefined
      }
    } catch (cause) {
      this.#unfollowed(subscriber, cause)
      return
    }
    if (pending === undefined) {
      this.#open(subscriber)
      return
    }
    pending.then(
      () => {
        if (stream.isClosed || this.#shuttingDown(subscriber)) return
        this.#open(subscriber)
      },
      (cause: unknown) => this.#unfollowed(subscriber, cause),
    )
  }

  #unfollowed(subscriber: Subscriber, cause: unknown): void {
    const { stream } = subscriber
    this.#context.report(
      cause instanceof SSEError
        ? cause
        : new SSEError(
            'TRANSPORT_ERROR',
            '@sse/core: the transport could not follow the stream’s topics',
            { cause },
          ),
    )
    if (stream.isClosed) return
    this.#context.refuse(stream, 503, 'The event stream is not available right now.', RETRY_AFTER)
  }

  #open(subscriber: Subscriber): void {
    const stream = subscriber.stream
    try {
      if (subscriber.head) {
        stream.answerHead()
        return
      }
      stream.open()
    } catch (cause) {
      this.#context.report(
        new SSEError('OPEN_FAILED', '@sse/core: writing the event stream’s head failed', {
          cause,
        }),
      )
      this.#context.refuse(stream, 500, 'The event stream could not be opened.')
      return
    }
    if (!stream.isClosed) this.#context.opened(subscriber)
  }
}
