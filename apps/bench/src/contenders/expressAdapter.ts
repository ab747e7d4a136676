import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sseMiddleware } from '@sse/express'
import type { ServerConfig } from '../protocol.js'
import { brokerCounts, type ContenderServer, EVENTS_PATH, ignore, TOPIC } from './contender.js'
import { ourBrokerOptions, ourStreamOptions } from './core.js'
import { listen } from './listen.js'
import { importUntyped } from './untypedImport.js'

/** The part of Express 5 the benchmark uses. */
interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void
  use(handler: unknown): void
  get(path: string, handler: (req: unknown, res: { sse(options: object): unknown }) => void): void
}

/** `@sse/express`: `app.use(sseMiddleware())`, `res.sse({ topics })` and `sse.broker.publish()`. */
export async function startExpressAdapter(config: ServerConfig): Promise<ContenderServer> {
  const sse = sseMiddleware(ourBrokerOptions(config))
  const { default: express } = await importUntyped<{ default: () => ExpressApp }>('express')
  const app = express()
  app.use(sse)
  const streamOptions = ourStreamOptions(config)
  app.get(EVENTS_PATH, (_req, res) => {
    res.sse(streamOptions)
  })
  const server = createServer(app)
  await listen(server)
  return {
    port: (server.address() as AddressInfo).port,
    publish(payload) {
      sse.broker.publish(TOPIC, payload).catch(ignore)
    },
    subscribers: () => sse.broker.subscribers(TOPIC),
    stats: () => brokerCounts(sse.broker.stats()),
    async close() {
      await sse.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
