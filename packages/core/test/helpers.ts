import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { type Broker, type BrokerOptions, createBroker } from '@sse/core'
import { type Cleanups, type Listening, listen } from '@sse/testkit'

/** How {@link serveBroker}'s server hands a request to its broker. */
export type BrokerHandler = (broker: Broker, req: IncomingMessage, res: ServerResponse) => void

const streamOnT: BrokerHandler = (broker, req, res) => broker.stream(req, res, { topics: ['t'] })

/**
 * A broker (keep-alive off unless `options` turn it on) behind a real HTTP/1.1 server, both closed
 * by `cleanups` after the test. By default every request opens a stream on topic `t`.
 */
export async function serveBroker(
  cleanups: Cleanups,
  options: BrokerOptions = {},
  handle: BrokerHandler = streamOnT,
): Promise<{ broker: Broker; server: Listening<Server>; url: string }> {
  const broker = createBroker({ keepAlive: 0, ...options })
  const server = await listen((req, res) => handle(broker, req, res))
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  return { broker, server, url: server.url }
}
