import type { AdapterOptions } from '@sse/core'
import {
  type AdapterSetup,
  createOptionsValidator,
  type OptionsValidator,
  setUpAdapter,
  splitAdapterOptions,
} from '@sse/core/kit'
import type { FastifyRequest } from 'fastify'

/** Options of the plugin itself, next to the broker options. */
export interface PluginOwnOptions {
  /**
   * Whether a stream that ends is logged as "request completed" with its response time, as Fastify
   * logs a response that finishes (Fastify does not log hijacked replies). Fastify gives plugins no
   * public access to a `logController`: if yours disables request logging for some requests, pass
   * the same predicate here.
   * @default follows Fastify's `disableRequestLogging`
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
