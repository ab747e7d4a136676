import { Hono } from 'hono'
import { type ContenderServer, EVENTS_PATH } from './contender.js'
import { serveFetch } from './serveFetch.js'
import { WebStreamLoop } from './webStreamLoop.js'

/**
 * The Fetch adapter's framework floor on Node: the plain loop of web-standard handlers (a
 * `ReadableStream` per client) behind a Hono route on `@hono/node-server`, no SSE library: what
 * Hono and `@hono/node-server`'s web streams cost by themselves.
 */
export async function startHonoFloor(): Promise<ContenderServer> {
  const loop = new WebStreamLoop()
  const app = new Hono()
  app.get(EVENTS_PATH, (c) => loop.open(c.req.raw))
  return loop.contender(await serveFetch('node', app.fetch))
}
