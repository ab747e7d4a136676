import type { AdapterOptions } from '@sse/core'
import {
  type AdapterSetup,
  createOptionsValidator,
  type OptionsValidator,
  setUpAdapter,
  splitAdapterOptions,
} from '@sse/core/kit'
import type { FastifyRequest } from 'fastify'

/**
 * Options of the plugin itself, next to the broker options.
 * @inline
 */
export interface PluginOwnOptions {
  /**
   * Whether a stream the client leaves is logged as "request completed" with its response time, as
   * Fastify logs a response that finishes (it logs a stream the server ends itself, through its
   * `logController`, but not one the client leaves). Fastify gives plugins no access to the
   * `logController` it was given: if yours silences request logging, pass the same choice here.
   * @default true (when the request's logger logs at `info`)
   * @example
   * const logController = new LogController({ disableRequestLogging: (request) => request.url === '/health' })
   * const app = Fastify({ logger: true, logController })
   * await app.register(ssePlugin, { logCompletion: (request) => !logController.isLogDisabled(request) })
   */
  logCompletion?: boolean | ((request: FastifyRequest) => boolean)
}

/** Options of `ssePlugin`: broker options, or `{ broker }` to use a broker you created. All optional. */
export type SSEPluginOptions = AdapterOptions & PluginOwnOptions

/** What the plugin works with, from {@link setUpPlugin}. */
export interface PluginSetup extends AdapterSetup {
  readonly logCompletion: PluginOwnOptions['logCompletion']
}

/** Keys Fastify's `register()` itself reads; they reach the plugin's options too. */
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers']

const ownValidator: OptionsValidator<PluginOwnOptions> = createOptionsValidator('@sse/fastify', {
  type: 'object',
  properties: { logCompletion: { anyOf: [{ type: 'boolean' }, { isFunction: true }] } },
})

/**
 * Checks the options given to `register()` (without Fastify's own keys) and sets up the broker and
 * stream group. Throws an `SSEError` `INVALID_OPTION` naming the bad key.
 */
export function setUpPlugin(options: unknown): PluginSetup {
  const { own, rest } = splitAdapterOptions(options, ['logCompletion'], ownValidator, REGISTER_KEYS)
  return { ...setUpAdapter('@sse/fastify', rest), logCompletion: own.logCompletion }
}
