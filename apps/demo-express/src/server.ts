import type { AddressInfo } from 'node:net'
import { buildApp } from './app.js'

const port = Number(process.env.PORT ?? 3001)
const host = process.env.HOST ?? 'localhost'

const { app, sse } = buildApp()
const server = app.listen(port, host, () => {
  const { port: listening } = server.address() as AddressInfo
  console.log(`SSE demo (Express) on http://${host}:${listening}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // server.close() waits for every connection, and Node keeps a connection open after each
    // response for the next request: answer what still comes with `Connection: close`, and close
    // a connection busy right now as soon as its response is sent.
    server.prependListener('request', (_req, res) => res.setHeader('Connection', 'close'))
    server.keepAliveTimeout = 1
    // End the event streams first, or server.close() would wait for them forever.
    sse.close().then(() => server.close(() => process.exit(0)))
  })
}
