import type { ContenderServer } from './contender.js'
import type { FetchServer } from './fetchServer.js'

/** An empty comment: Bun sends a streamed response's head with its first chunk. */
const OPENING_COMMENT = new Uint8Array([0x3a, 0x0a, 0x0a])

const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }

/**
 * The plain loop of web-standard handlers, shared by the plain loop on Bun and the Hono floor on
 * Node: a `ReadableStream` per client, each event encoded once and enqueued on every client's
 * controller. No ids, no history, no bound on buffering, as the node:http baseline.
 */
export class WebStreamLoop {
  readonly clients = new Set<ReadableStreamDefaultController<Uint8Array>>()
  readonly #encoder = new TextEncoder()

  /** The response of one client's stream, which leaves the loop when the client goes. */
  open(request: Request): Response {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined
    const leave = () => {
      if (controller !== undefined) this.clients.delete(controller)
    }
    const body = new ReadableStream<Uint8Array>({
      start: (opened) => {
        controller = opened
        this.clients.add(opened)
        opened.enqueue(OPENING_COMMENT)
      },
      cancel: leave,
    })
    request.signal.addEventListener('abort', leave, { once: true })
    return new Response(body, { headers: SSE_HEADERS })
  }

  publish(payload: string): void {
    const frame = this.#encoder.encode(`data: ${payload}\n\n`)
    for (const controller of this.clients) controller.enqueue(frame)
  }

  /** This loop served by `server`. */
  contender(server: FetchServer): ContenderServer {
    return {
      port: server.port,
      publish: (payload) => this.publish(payload),
      subscribers: () => this.clients.size,
      stats: () => undefined,
      close: () => server.close(),
    }
  }
}
