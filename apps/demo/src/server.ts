import type { AddressInfo } from 'node:net'
import type { Broker } from '@sse/core'
import { createBroker } from '@sse/core'
import { buildApp, DEMO_BROKER_OPTIONS } from './app.js'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? 'localhost'

// With REDIS_URL, events travel through Redis so several instances serve the same pages.
// Imported only then, so the default start needs nothing but Node.
let broker: Broker | undefined
if (process.env.REDIS_URL) {
  const { redisTransport } = await import('@sse/redis')
  broker = createBroker({
    transport: redisTransport({ url: process.env.REDIS_URL }),
    maxReplayBytes: DEMO_BROKER_OPTIONS.maxReplayBytes,
  })
}

const app = buildApp({ broker, logger: { level: process.env.LOG_LEVEL ?? 'info' } })
// A broker passed in stays open when the app closes: it is ours to close.
if (broker !== undefined) app.addHook('onClose', async () => broker.close())

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Closing waits for every connection. A request still in flight would keep its connection
    // alive once answered, for the keep-alive timeout (72 s in Fastify): let connections close as
    // soon as they fall idle.
    app.server.keepAliveTimeout = 1
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}

await app.listen({ port, host })
const { port: listening } = app.server.address() as AddressInfo
app.log.info(`SSE demo on http://${host}:${listening}${broker ? ' (Redis transport)' : ''}`)
