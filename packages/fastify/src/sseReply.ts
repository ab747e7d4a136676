import {
  type BrokerStreamOptions,
  isStreamSource,
  type SSEStream,
  type SSEStreamOptions,
  type StreamGroup,
  type StreamSource,
} from '@sse/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** What `reply.sse()` can stream from: each value is sent as an event (a string becomes `data`). */
export type SSESource = StreamSource

/** The `reply.sse()` method. */
export interface ReplySSE {
  /**
   * Answers the request with an event stream subscribed to `options.topics` (none: the stream is
   * for your own `send()` calls). Headers set with `reply.header()` before are kept. The stream stays
   * open until the client leaves or the app closes; the handler may return it or nothing.
   */
  (options?: BrokerStreamOptions): SSEStream
  /** Sends each value of `source` as an event and ends the stream when the source ends. */
  (source: SSESource, options?: SSEStreamOptions): SSEStream
}

/** What `reply.sse()` needs from the plugin that decorates the reply. */
export interface SSEReplyContext {
  readonly group: StreamGroup
  /** Whether the completion of this request's stream is logged at all (decided when it opens). */
  readonly logsCompletion: (request: FastifyRequest) => boolean
  /** Logs the completion of a stream the client ended, as Fastify's request logging would. */
  readonly logCompleted: (request: FastifyRequest, reply: FastifyReply) => void
}

type Handler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown

const streams = new WeakMap<FastifyReply, SSEStream>()
const guarded = new WeakSet<Handler>()

/** Builds the `reply.sse()` method of one plugin instance. */
export function sseReply(context: SSEReplyContext): ReplySSE {
  const { group } = context
  return function sse(
    this: FastifyReply,
    arg?: BrokerStreamOptions | SSESource,
    options?: SSEStreamOptions,
  ): SSEStream {
    const source = isStreamSource(arg) ? arg : undefined
    const streamOptions = source === undefined ? (arg as BrokerStreamOptions | undefined) : options
    const raw = this.raw
    const headers = this.getHeaders()
    for (const name of Object.keys(headers)) {
      const value = headers[name]
      if (value !== undefined) raw.setHeader(name, value)
    }
    // Opened before hijacking: an invalid topic or option throws before any byte is written, and
    // Fastify still answers the error.
    const stream = group.stream(this.request.raw, raw, streamOptions)
    this.hijack()
    streams.set(this, stream)
    // Fastify logs a response that finishes; a client that leaves only closes it. The listener
    // keeps the request and reply alive for the life of the stream: only add it when it logs.
    if (context.logsCompletion(this.request)) {
      raw.once('close', () => {
        if (!raw.writableFinished) context.logCompleted(this.request, this)
      })
    }
    if (source !== undefined) {
      stream.pipe(source).catch((err: unknown) => {
        this.log.error({ err }, 'the source of the event stream failed; the stream was closed')
      })
    }
    return stream
  } as ReplySSE
}

function failed(reply: FastifyReply, error: unknown): boolean {
  const stream = streams.get(reply)
  if (stream === undefined) return false
  reply.log.error({ err: error }, 'the handler failed after its event stream opened; closing it')
  stream.close()
  return true
}

/**
 * Wraps a route handler so that, once it has called `reply.sse()`, returning the stream sends
 * nothing more and an error it throws (or rejects with) closes the stream and is logged, where
 * Fastify would only warn that the reply was already sent.
 */
export function guardHandler<THandler extends Handler>(handler: THandler): THandler {
  if (guarded.has(handler)) return handler
  const guard = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    let result: unknown
    try {
      result = handler.call(this, request, reply)
    } catch (error) {
      if (failed(reply, error)) return undefined
      throw error
    }
    if (result === undefined) return result
    const stream = streams.get(reply)
    if (result === reply || result === stream) return stream === undefined ? result : undefined
    if (typeof result === 'object' && result !== null && 'then' in result) {
      // Promise.resolve: a thenable whose `then` returns nothing must still reach Fastify as a promise.
      return Promise.resolve(result as PromiseLike<unknown>).then(undefined, (error: unknown) => {
        if (failed(reply, error)) return undefined
        throw error
      })
    }
    return result
  }
  guarded.add(guard)
  return guard as THandler
}
