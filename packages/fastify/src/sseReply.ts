import type { SSEMethod, SSEStream, StreamGroup } from '@sse/core'
import { readSSECall } from '@sse/core/kit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** The `reply.sse()` method: the same contract as `res.sse()` in `@sse/express`. */
export type ReplySSE = SSEMethod

/** What `reply.sse()` needs from the plugin that decorates the reply. */
export interface SSEReplyContext {
  readonly group: StreamGroup
  /** Whether a stream of this request that the client leaves is logged as completed. */
  readonly logsCompletion: (request: FastifyRequest) => boolean
}

type Handler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown

const streams = new WeakMap<FastifyReply, SSEStream>()
const guarded = new WeakSet<Handler>()

/** Builds the `reply.sse()` method of one plugin instance. */
export function sseReply(context: SSEReplyContext): ReplySSE {
  const { group } = context
  return function sse(this: FastifyReply, first?: unknown, second?: unknown): SSEStream {
    const { source, options } = readSSECall('@sse/fastify', first, second)
    // Asked before the stream opens: a predicate that throws fails the request, not a stream.
    const logsCompletion = context.logsCompletion(this.request)
    const raw = this.raw
    const headers = this.getHeaders()
    for (const name of Object.keys(headers)) {
      const value = headers[name]
      if (value !== undefined) raw.setHeader(name, value)
    }
    const stream = group.stream(this.request.raw, raw, options)
    this.hijack()
    streams.set(this, stream)
    // Fastify logs a response that finishes, not one the client ends. The listener keeps the
    // request and reply alive for the life of the stream: only add it when requests are logged.
    if (logsCompletion) {
      raw.once('close', () => {
        if (!raw.writableFinished) {
          this.log.info({ res: this, responseTime: this.elapsedTime }, 'request completed')
        }
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
