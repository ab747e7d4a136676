/**
 * Starts {@link runtimeApp} on 127.0.0.1, port 0, under Bun (`Bun.serve`) or Deno (`Deno.serve`),
 * and prints `listening <port>` once it accepts requests (Node: `serveNode.ts`).
 * `SSE_OPTIONS` (JSON) sets the app up; `BUN_IDLE_TIMEOUT` sets `Bun.serve`'s `idleTimeout`.
 */
import { type RuntimeAppOptions, runtimeApp } from './app.js'

interface BunRuntime {
  serve(options: {
    port: number
    hostname: string
    idleTimeout?: number
    fetch: (request: Request) => Response | Promise<Response>
  }): { port: number }
  env: Record<string, string | undefined>
}
interface DenoRuntime {
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown
  env: { get(name: string): string | undefined }
}

const runtime = globalThis as { Bun?: BunRuntime; Deno?: DenoRuntime }
const env = (name: string): string | undefined =>
  runtime.Deno !== undefined ? runtime.Deno.env.get(name) : process.env[name]
const options = JSON.parse(env('SSE_OPTIONS') ?? '{}') as RuntimeAppOptions
const app = runtimeApp(options)
const listening = (port: number) => console.log(`listening ${port}`)

if (runtime.Bun !== undefined) {
  const idle = env('BUN_IDLE_TIMEOUT')
  const server = runtime.Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    ...(idle === undefined ? {} : { idleTimeout: Number(idle) }),
    fetch: app.fetch,
  })
  listening(server.port)
} else if (runtime.Deno !== undefined) {
  runtime.Deno.serve(
    { port: 0, hostname: '127.0.0.1', onListen: ({ port }) => listening(port) },
    app.fetch,
  )
} else {
  throw new Error('serveWeb.ts runs under Bun or Deno; Node runs serveNode.ts')
}
