/**
 * Defaults that depend on the runtime serving the requests: only where a runtime's own default
 * would end healthy streams.
 */

/**
 * The keep-alive interval on Bun, in ms: `Bun.serve` ends a connection idle for `idleTimeout`
 * (10 s by default), checked every 4 s, so a connection can be ended a little over 8 s after it
 * last wrote. A comment every 5 s keeps a quiet stream open under it with 3 s to spare.
 */
export const BUN_KEEP_ALIVE = 5_000

/** Whether the process runs on Bun. */
export function onBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun === 'object'
}

/**
 * `options` with the runtime's defaults under them: on Bun, `keepAlive` is {@link BUN_KEEP_ALIVE}
 * unless given. Anything but a plain object is passed on as it is, for the adapter to refuse.
 */
export function withRuntimeDefaults(options: unknown): unknown {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options
  if (!onBun() || (options as { keepAlive?: unknown }).keepAlive !== undefined) return options
  return { ...options, keepAlive: BUN_KEEP_ALIVE }
}
