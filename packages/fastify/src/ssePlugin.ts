import type { Broker } from '@sse/core'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type SSEPluginOptions, setUpPlugin } from './ssePluginOptions.js'
import { guardHandler, type ReplySSE, sseReply } from './sseReply.js'

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

/**
 * Whether a stream the client leaves is logged as "request completed" (Fastify logs the ones the
 * server ends): the plugin's `logCompletion`, else yes. Fastify keeps its `logController` to itself,
 * so an app that silences request logging there passes the same choice as `logCompletion`. With no
 * logger, or a silent one, every level is the same no-op function, and nothing is logged.
 */
function completionLogged(
  option: SSEPluginOptions['logCompletion'],
): (request: FastifyRequest) => boolean {
  const logs: (request: FastifyRequest) => boolean =
    typeof option === 'function' ? option : () => option !== false
  return (request) => request.log.info !== request.log.fatal && logs(request)
}

const plugin: FastifyPluginAsync<SSEPluginOptions> = async (fastify, options) => {
  const { broker, ownsBroker, group, logCompletion } = setUpPlugin(options)

  fastify.decorate('broker', { getter: () => broker })
  fastify.decorateRequest('broker', { getter: () => broker })
  fastify.decorateReply('sse', sseReply({ group, logsCompletion: completionLogged(logCompletion) }))

  // Fastify has no hook that sees what a handler returns: a handler that returns the stream (the
  // common `(request, reply) => reply.sse(...)`) would make Fastify warn that the reply was sent,
  // and an error thrown after `reply.sse()` would leave the stream open. So every route added
  // after the plugin gets a thin guard: one more call per request, and a WeakMap lookup when
  // the handler returns a value (see docs/fastify.md for the measured cost).
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
