import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import {
  createServer as createH2Server,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2'
import type { AddressInfo } from 'node:net'

/** A request handler for {@link listen}: a plain function, or an Express app. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A server listening on 127.0.0.1 on an ephemeral port. */
export interface Listening<TServer> {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string
  readonly port: number
  readonly server: TServer
  /** Cuts every connection (open streams included) and resolves once the server has closed. */
  close(): Promise<void>
}

async function listenOn<TServer extends Server | Http2Server>(
  server: TServer,
  cut: () => void,
): Promise<Listening<TServer>> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        cut()
        server.close(() => resolve())
      }),
  }
}

/** A real HTTP/1.1 server on 127.0.0.1 with an ephemeral port. */
export function listen(handler: Handler): Promise<Listening<Server>> {
  const server = createServer(handler)
  return listenOn(server, () => server.closeAllConnections())
}

/** A real h2c (HTTP/2 without TLS) server on 127.0.0.1 with an ephemeral port. */
export function listenH2(
  handler: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
): Promise<Listening<Http2Server>> {
  const server = createH2Server(handler)
  const sessions = new Set<ServerHttp2Session>()
  server.on('session', (session) => {
    sessions.add(session)
    session.on('close', () => sessions.delete(session))
  })
  return listenOn(server, () => {
    for (const session of sessions) session.destroy()
  })
}
