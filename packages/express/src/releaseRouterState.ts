import type { Request } from 'express'

/** What Express's router leaves on a request, beyond its typed surface. */
interface RoutedRequest extends Request {
  _parsedUrl?: unknown
}

/**
 * Lets go of what Express's router keeps on a request for the rest of its routing, which an event
 * stream never resumes: `req.next` (the router's continuation, and through it the state of every
 * enclosing router and of the final handler, about 0.8 KiB) and the parsed URL that `parseurl`
 * caches (rebuilt on demand, for `req.path` or `req.query`). An idle stream then holds only what the
 * response needs. The handler's own `next` parameter keeps working, and so do `req.params`,
 * `res.locals` and everything else the app set.
 *
 * Assigned `undefined`, never deleted, and only when present: deleting or adding a property would
 * give the request yet another hidden class.
 */
export function releaseRouterState(req: Request): void {
  const routed = req as RoutedRequest
  if (routed.next !== undefined) routed.next = undefined
  if (routed._parsedUrl !== undefined) routed._parsedUrl = undefined
}
