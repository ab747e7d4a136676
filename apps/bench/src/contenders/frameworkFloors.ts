import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import fastify from 'fastify'
import { WriteLoop } from './baseline.js'
import { type ContenderServer, EVENTS_PATH } from './contender.js'
import { listen } from './listen.js'
import { importUntyped } from './untypedImport.js'

/** The part of Express 5 the floor uses. */
interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void
  get(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void
}

/** The baseline's write loop behind a plain Express 5 route. */
export async function startExpressFloor(): Promise<ContenderServer> {
  const loop = new WriteLoop()
  const { default: express } = await importUntyped<{ default: () => ExpressApp }>('express')
  const app = express()
  app.get(EVENTS_PATH, (_req, res) => loop.open(res))
  const server = createServer(app)
  await listen(server)
  return loop.contender(server)
}

/** The baseline's write loop behind a plain Fastify 5 route (the reply hijacked). */
export async function startFastifyFloor(): Promise<ContenderServer> {
  const loop = new WriteLoop()
  const app = fastify({ logger: false })
  app.get(EVENTS_PATH, (_request, reply) => {
    reply.hijack()
    loop.open(reply.raw)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return loop.contender(app.server, () => app.close())
}
