import { type AdapterOptions, type AdapterSetup, setUpAdapter } from '@sse/core'

/** Options of `ssePlugin`: broker options, or `{ broker }` to use a broker you created. All optional. */
export type SSEPluginOptions = AdapterOptions

/** Keys Fastify's `register()` itself reads; they reach the plugin's options too. */
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers']

/**
 * Checks the options given to `register()` (without Fastify's own keys) and sets up the broker and
 * stream group. Throws an `SSEError` `INVALID_OPTION` naming the bad key.
 */
export function setUpPlugin(options: unknown): AdapterSetup {
  let own = options
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) {
    const copy: Record<string, unknown> = { ...options }
    for (const key of REGISTER_KEYS) delete copy[key]
    own = copy
  }
  return setUpAdapter('@sse/fastify', own)
}
