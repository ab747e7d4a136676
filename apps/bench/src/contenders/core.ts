import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BrokerOptions, createBroker } from '@sse/core'
import type { Transport } from '@sse/core/kit'
import type { ServerConfig } from '../protocol.js'
import {
  BENCH_MAX_CONNECTIONS,
  brokerCounts,
  type ContenderServer,
  EVENTS_PATH,
  ignore,
  TOPIC,
} from './contender.js'
import { listen } from './listen.js'

/** Generous per-event room for S4's 1 KiB events with their `id:` and `event:` lines. */
const REPLAY_BYTES_PER_EVENT = 2048

/** Broker options shared by our contenders (no `authorize`: each adapter types its own). */
export function ourBrokerOptions(config: ServerConfig): Omit<BrokerOptions, 'authorize'> {
  return {
    maxConnections: BENCH_MAX_CONNECTIONS,
    ...(config.maxBufferedBytes !== undefined && { maxBufferedBytes: config.maxBufferedBytes }),
    // With a history (S4), a client cut for falling behind replays everything it missed: the replay
    // caps (1,000 events, 1 MiB by default) are lifted to the history, or it would get the reset event.
    ...(config.historySize !== undefined && {
      historySize: config.historySize,
      maxReplayEvents: config.historySize,
      maxReplayBytes: config.historySize * REPLAY_BYTES_PER_EVENT,
    }),
  }
}

/**
 * What each of our contenders passes to `broker.stream()` / `sse()`: the topic, and the stream
 * option `writePath` when the contender names one (the public write path contenders).
 */
export function ourStreamOptions(config: ServerConfig) {
  return {
    topics: [TOPIC],
    ...(config.writePath !== undefined && { writePath: config.writePath }),
  }
}

async function redisTransportFor(config: ServerConfig): Promise<Transport | undefined> {
  if (config.redisUrl === undefined) return undefined
  const { redisTransport } = await import('@sse/redis')
  return redisTransport({
    url: config.redisUrl,
    ...(config.redisKeyPrefix !== undefined && { keyPrefix: config.redisKeyPrefix }),
  })
}

/** `@sse/core` on plain `node:http` (optionally over `@sse/redis`, or on the `writePath` asked for). */
export async function startCore(config: ServerConfig): Promise<ContenderServer> {
  const transport = await redisTransportFor(config)
  const broker = createBroker({
    ...ourBrokerOptions(config),
    ...(transport !== undefined && { transport }),
  })
  await broker.ready
  const streamOptions = ourStreamOptions(config)
  const server = createServer((req, res) => {
    if (req.url?.startsWith(EVENTS_PATH)) broker.stream(req, res, streamOptions)
    else res.writeHead(404).end()
  })
  await listen(server)
  return {
    port: (server.address() as AddressInfo).port,
    publish(payload) {
      broker.publish(TOPIC, payload).catch(ignore)
    },
    subscribers: () => broker.subscribers(TOPIC),
    stats: () => brokerCounts(broker.stats()),
    async close() {
      await broker.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
