import { serveOnBun } from './bunServer.js'
import type { ContenderServer } from './contender.js'
import { WebStreamLoop } from './webStreamLoop.js'

/**
 * The plain loop on Bun, the floor the Bun contenders are ratios to: `Bun.serve`, a
 * `ReadableStream` per client, each event encoded once and enqueued on every client's controller.
 */
export function startBunBaseline(): ContenderServer {
  const loop = new WebStreamLoop()
  return loop.contender(serveOnBun((request) => loop.open(request)))
}
