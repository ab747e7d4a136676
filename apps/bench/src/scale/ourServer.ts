import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createBroker } from '@sse/core'
import { type RedisTransportOptions, redisTransport } from '@sse/redis'
import { EVENTS_PATH } from '../contenders/contender.js'
import { listen } from '../contenders/listen.js'
import { type FanOutSetup, SCALE_TOPIC, type ServerSetup } from './scaleProtocol.js'
import { ACCEPT_BACKLOG, type ScaleServerHandle } from './scaleServerHandle.js'

/**
 * `redisTransport()`'s options for `setup`: `partitions` is passed only when given, so the
 * scenario runs on a @sse/redis that does not know that option yet.
 */
export function transportOptions(setup: FanOutSetup): RedisTransportOptions {
  const partitions: object = setup.partitions === undefined ? {} : { partitions: setup.partitions }
  return { url: setup.redisUrl, keyPrefix: setup.keyPrefix, ...partitions }
}

/**
 * An app instance of ours: `node:http` with `broker.stream(req, res, { topics })` on a broker over
 * @sse/redis. Core's defaults throughout, except `maxConnections`, raised to this process's share.
 */
export async function startOurServer(setup: ServerSetup): Promise<ScaleServerHandle> {
  const broker = createBroker({
    transport: redisTransport(transportOptions(setup)),
    maxConnections: setup.maxConnections,
  })
  await broker.ready
  const streamOptions = { topics: [SCALE_TOPIC] }
  const server = createServer((req, res) => {
    if (req.url?.startsWith(EVENTS_PATH)) broker.stream(req, res, streamOptions)
    else res.writeHead(404).end()
  })
  await listen(server, ACCEPT_BACKLOG)
  return {
    port: (server.address() as AddressInfo).port,
    subscribers: () => broker.subscribers(SCALE_TOPIC),
  }
}
