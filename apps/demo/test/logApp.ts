import type { AddressInfo } from 'node:net'
import { type Broker, createBroker, MemoryTransport, SSEError } from '@sse/core'
import type { ServerSentEvent } from '@sse/testing'
import type { Cleanups } from '@sse/testkit'
import type { FastifyInstance } from 'fastify'
import { buildApp, type DemoOptions } from '../src/app.js'
import { LogFeed } from '../src/features/logFeed.js'

/** The demo's log stream, as a page subscribes to it. */
export const LOGS = '/events?topics=logs'

/** The `data-seq` of every line in a `logs` event, in order. */
export function seqsOf(event: ServerSentEvent): number[] {
  return [...event.data.matchAll(/class="log-line" data-source="[^"]*" data-seq="(\d+)"/g)].map(
    (match) => Number(match[1]),
  )
}

/**
 * The demo app listening on 127.0.0.1 with its own broker and log feed (named `source`), closed by
 * `cleanups`; `options` go to `buildApp()` over a quiet dashboard.
 */
export async function startLogApp(
  cleanups: Cleanups,
  source: string,
  options: DemoOptions = {},
): Promise<{ app: FastifyInstance; base: string; broker: Broker; feed: LogFeed }> {
  const broker = options.broker ?? createBroker()
  const feed = options.logs ?? new LogFeed(source)
  const app = buildApp({ dashboardIntervalMs: 60_000, ...options, broker, logs: feed })
  cleanups.push(
    () => broker.close(),
    () => app.close(),
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return { app, base, broker, feed }
}

/** Posts `fields` to `path` as a form, as the page's controls do. */
export function postForm(
  base: string,
  path: string,
  fields: Record<string, string>,
): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  })
}

/** A broker whose in-memory transport refuses every publish while `down` is set. */
export function flakyBroker(): { broker: Broker; down: (isDown: boolean) => void } {
  let isDown = false
  class FlakyTransport extends MemoryTransport {
    override publish(message: Parameters<MemoryTransport['publish']>[0]): string {
      if (isDown) throw new SSEError('TRANSPORT_UNAVAILABLE', 'test: the transport is down')
      return super.publish(message)
    }
  }
  const broker = createBroker({ transport: new FlakyTransport(), onError: () => {} })
  return { broker, down: (value) => (isDown = value) }
}
