import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ContenderServer } from './contender.js'
import { listen } from './listen.js'

/** The baseline's subscribers and its way to open and publish, shared with the framework floors. */
export class WriteLoop {
  readonly clients = new Set<ServerResponse>()

  open(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    })
    res.flushHeaders()
    this.clients.add(res)
    res.on('close', () => this.clients.delete(res))
  }

  publish(payload: string): void {
    const frame = Buffer.from(`data: ${payload}\n\n`)
    for (const res of this.clients) res.write(frame)
  }

  /** This loop served by a listening `node:http` server; `close` stops it. */
  contender(server: Server, close?: () => Promise<unknown>): ContenderServer {
    return {
      port: (server.address() as AddressInfo).port,
      publish: (payload) => this.publish(payload),
      subscribers: () => this.clients.size,
      stats: () => undefined,
      async close() {
        server.closeAllConnections()
        if (close !== undefined) await close()
        else await new Promise((resolve) => server.close(resolve))
      },
    }
  }
}

/**
 * The practical floor: plain `node:http`, each event serialized once into a Buffer and written
 * with `res.write(buf)` to every subscriber. No ids, no history, no bound on buffering.
 */
export async function startBaseline(): Promise<ContenderServer> {
  const loop = new WriteLoop()
  const server = createServer((_req, res) => loop.open(res))
  await listen(server)
  return loop.contender(server)
}
