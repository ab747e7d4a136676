import { buildApp } from './app.js'

const port = Number(process.env.PORT ?? 3001)
const host = process.env.HOST ?? 'localhost'

const { app, sse } = buildApp()
const server = app.listen(port, host, () => {
  console.log(`SSE demo (Express) on http://${host}:${port}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // End the event streams first, or server.close() would wait for them forever.
    sse.close().then(() => server.close(() => process.exit(0)))
  })
}
