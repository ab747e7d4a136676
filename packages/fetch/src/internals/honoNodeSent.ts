/**
 * PRIVATE FRAMEWORK DETAILS: telling `@hono/node-server` that a handler answered on Node's response
 * itself.
 *
 * What it reads, of `@hono/node-server` from 1.9 (the header's first release) to 2.x (checked on
 * 2.1.11 by `test/internals.canary.test.ts`, which CI runs on Node 20, 22 and 24):
 * - public: a bodiless `Response` with the header `x-hono-already-sent` makes it write nothing
 *   (what its own `RESPONSE_ALREADY_SENT` is);
 * - private: with `overrideGlobalObjects` (its default) the global `Response` is a class of its own
 *   whose constructor's prototype is the runtime's `Response`. It writes a bodiless `Response` of
 *   that class from a cache, head and all, without looking at that header: the answer must be built
 *   with the runtime's class.
 *
 * Fallback: when the global `Response` is not a subclass of another (no override), it is the
 * runtime's own, and is used as is. It can go when `@hono/node-server` honours the header on its
 * cached path too.
 */

/** The header `@hono/node-server` reads as "the handler wrote the response itself". */
export const ALREADY_SENT_HEADER = 'x-hono-already-sent'

/** The runtime's `Response`: the global one, or the class it extends when a server replaced it. */
function runtimeResponse(): typeof Response {
  const global = globalThis.Response
  const parent: unknown = Object.getPrototypeOf(global)
  if (
    typeof parent === 'function' &&
    parent.prototype !== undefined &&
    Object.getPrototypeOf(global.prototype) === parent.prototype
  ) {
    return parent as typeof Response
  }
  return global
}

/**
 * A new "already sent" answer for `@hono/node-server`: one per request, since middleware may add
 * headers to the `Response` a handler returns.
 */
export function alreadySentResponse(): Response {
  const RuntimeResponse = runtimeResponse()
  return new RuntimeResponse(null, { headers: { [ALREADY_SENT_HEADER]: 'true' } })
}
