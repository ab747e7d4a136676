import type { FetchHandler, FetchServer } from './fetchServer.js'

/** The part of `Bun.serve` the bench uses (the bench has no Bun type declarations). */
interface BunRuntime {
  serve(options: { port: number; hostname: string; idleTimeout: number; fetch: FetchHandler }): {
    readonly port: number
    stop(closeActiveConnections?: boolean): Promise<void>
  }
  /** Runs the garbage collector; `true` waits for a full collection. */
  gc(force: boolean): void
  readonly version: string
}

/** Bun's global, when the process runs on Bun. */
export function bunRuntime(): BunRuntime | undefined {
  return (globalThis as { Bun?: BunRuntime }).Bun
}

/**
 * `handler` under `Bun.serve` on 127.0.0.1. `idleTimeout: 0`: Bun ends a connection idle for 10 s
 * by default, an idle SSE stream included (S3 holds its connections longer than that).
 */
export function serveOnBun(handler: FetchHandler): FetchServer {
  const bun = bunRuntime()
  if (bun === undefined) throw new Error('a Bun contender must run under Bun')
  const server = bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: handler })
  return {
    port: server.port,
    close: () => server.stop(true),
  }
}
