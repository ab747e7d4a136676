/** A web-standard handler, as `Bun.serve`, `@hono/node-server` and a Hono app's `fetch` take it. */
export type FetchHandler = (request: Request) => Response | Promise<Response>

/** A fetch handler served on 127.0.0.1, and how to stop it (every connection cut). */
export interface FetchServer {
  readonly port: number
  close(): Promise<void>
}
