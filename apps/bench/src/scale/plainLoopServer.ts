import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { WriteLoop } from '../contenders/baseline.js'
import { listen } from '../contenders/listen.js'
import { SCALE_TOPIC, type ServerSetup } from './scaleProtocol.js'
import { ACCEPT_BACKLOG, type ScaleServerHandle } from './scaleServerHandle.js'

const KEEP_ALIVE = Buffer.from(':\n\n')

/** The Redis channel the plain loop's servers subscribe to and its publisher publishes on. */
export function plainChannel(keyPrefix: string): string {
  return `${keyPrefix}:${SCALE_TOPIC}`
}

/**
 * The plain `node:http` loop behind Redis: the bench's baseline write loop (each message
 * serialized once, `res.write()` to every response), fed by one ioredis SUBSCRIBE per process,
 * and a keep-alive comment to every response on one timer at the interval ours uses.
 */
export async function startPlainLoopServer(setup: ServerSetup): Promise<ScaleServerHandle> {
  const loop = new WriteLoop()
  const subscriber = new Redis(setup.redisUrl)
  subscriber.on('message', (_channel: string, message: string) => loop.publish(message))
  await subscriber.subscribe(plainChannel(setup.keyPrefix))
  const keepAlive = setInterval(() => {
    for (const res of loop.clients) res.write(KEEP_ALIVE)
  }, setup.plainKeepAliveMs)
  keepAlive.unref()
  const server = createServer((_req, res) => loop.open(res))
  await listen(server, ACCEPT_BACKLOG)
  return {
    port: (server.address() as AddressInfo).port,
    subscribers: () => loop.clients.size,
  }
}
