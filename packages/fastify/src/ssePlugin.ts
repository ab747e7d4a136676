import type { Broker } from '@sse/core'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type SSEPluginOptions, setUpPlugin } from './ssePluginOptions.js'
import { guardHandler, type ReplySSE, type SSEReplyContext, sseReply } from './sseReply.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The broker of this plugin's context, for publishing outside requests (background jobs). */
    readonly broker: Broker
  }
  interface FastifyRequest {
    /** The broker of this plugin's context: `request.broker.publish(topic, event)`. */
    readonly broker: Broker
  }
  interface FastifyReply {
    /**
     * Answers with a Server-Sent Events stream: `reply.sse({ topics })` subscribes it to topics,
     * `reply.sse(iterable)` sends each value and ends with the iterable, `reply.sse()` gives a stream
     * for your own `send()` calls.
     */
    sse: ReplySSE
  }
}

interface LogController {
  requestCompleted(error: null, request: FastifyRequest, reply: FastifyReply): void
  isLogDisabled?(request: FastifyRequest): boolean
}

function findLogController(fastify: FastifyInstance): LogController | undefined {
  for (let at: object | null = fastify; at !== null; at = Object.getPrototypeOf(at)) {
    for (const key of Object.getOwnPropertySymbols(at)) {
      if (key.description !== 'fastify.logController') continue
      const controller = (at as Record<symbol, unknown>)[key] as Partial<LogController> | undefined
      if (typeof controller?.requestCompleted === 'function') return controller as LogController
    }
  }
  return undefined
}

/**
 * How to log a stream the client ended (Fastify only logs responses that finish). Fastify 5.12+
 * routes request logs through its log controller (honouring `logController`); before that, the
 * top-level `disableRequestLogging` option decides.
 */
function completionLogger(
  fastify: FastifyInstance,
): Pick<SSEReplyContext, 'logsCompletion' | 'logCompleted'> {
  const controller = findLogController(fastify)
  const disabled = fastify.initialConfig.disableRequestLogging
  const quiet: (request: FastifyRequest) => boolean =
    controller?.isLogDisabled !== undefined
      ? (request) => controller.isLogDisabled?.(request) === true
      : typeof disabled === 'function'
        ? disabled
        : () => disabled === true
  return {
    // With no logger, or a silent one, every level is the same no-op function.
    logsCompletion: (request) => request.log.info !== request.log.fatal && !quiet(request),
    logCompleted:
      controller !== undefined
        ? (request, reply) => controller.requestCompleted(null, request, reply)
        : (_request, reply) =>
            reply.log.info({ res: reply, responseTime: reply.elapsedTime }, 'request completed'),
  }
}

const plugin: FastifyPluginAsync<SSEPluginOptions> = async (fastify, options) => {
  const { broker, ownsBroker, group } = setUpPlugin(options)

  fastify.decorate('broker', { getter: () => broker })
  fastify.decorateRequest('broker', { getter: () => broker })
  fastify.decorateReply('sse', sseReply({ group, ...completionLogger(fastify) }))

  fastify.addHook('onRoute', (route) => {
    route.handler = guardHandler(route.handler)
  })
  // Fastify closes the server before `onClose` hooks run, and the server waits for open
  // connections: streams must end earlier, in `preClose`.
  fastify.addHook('preClose', (done) => {
    group.close()
    done()
  })
  if (ownsBroker) fastify.addHook('onClose', () => broker.close())
}

/**
 * Adds `reply.sse()`, `request.broker` and `fastify.broker`. Options are validated when the plugin
 * is registered. `app.close()` ends every stream the plugin opened and closes the broker it created
 * (a broker passed in `options.broker` stays open).
 *
 * @example
 * await app.register(ssePlugin)
 * app.get('/events', (request, reply) => reply.sse({ topics: ['notifications'] }))
 * app.post('/notes', async (request) => {
 *   request.broker.publish('notifications', { data: '<li>New note</li>' })
 *   return { ok: true }
 * })
 */
export const ssePlugin: FastifyPluginAsync<SSEPluginOptions> = fp(plugin, {
  fastify: '5.x',
  name: '@sse/fastify',
})
