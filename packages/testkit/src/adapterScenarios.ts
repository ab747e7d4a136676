import { openStream } from '@sse/testing'
import { expect } from 'vitest'
import type { Cleanups } from './useCleanups.js'
import { waitFor } from './waitFor.js'

/** An `EventSource` as the scenarios use it (npm `eventsource`, or the browser's). */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: { data: string }) => void): void
  close(): void
}

/** The answer of `POST /metrics`: `{ id }`, or 400 `{ code }` for an `SSEError`. */
interface MetricAnswer {
  status: number
  body: { id?: string; code?: string }
}

async function postMetric(origin: string, key: string, value: number): Promise<MetricAnswer> {
  const response = await fetch(`${origin}/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key, value }),
  })
  return { status: response.status, body: (await response.json()) as MetricAnswer['body'] }
}

/**
 * Publishing with a conflation key through an adapter, end to end: live delivery, then a
 * log-compacted replay, and bad keys answered with their code. The app at `origin` streams topic
 * `system` on `GET /events`; its `POST /metrics` takes `{ key, value }` as JSON, publishes
 * `{ data: `${key}=${value}` }` on `system` with `{ key }` through the request's broker and answers
 * `{ id }`, or 400 `{ code }` when the publish throws an `SSEError`.
 */
export async function checkKeyedPublishing(origin: string, stats: () => object): Promise<void> {
  const live = await openStream(`${origin}/events`)
  const { body: first } = await postMetric(origin, 'cpu', 1)
  for (let value = 2; value <= 5; value++) {
    await postMetric(origin, 'cpu', value)
    await postMetric(origin, 'memory', value)
  }
  const [firstEvent] = await live.take(9)
  expect(firstEvent).toMatchObject({ id: first.id, event: 'system', data: 'cpu=1' })

  const resumed = await openStream(`${origin}/events`, { lastEventId: first.id! })
  await resumed.take(2)
  expect(resumed.events.map((event) => event.data)).toEqual(['cpu=5', 'memory=5'])

  const refused = { status: 400, body: { code: 'INVALID_OPTION' } }
  expect(await postMetric(origin, 'a\u0000b', 1)).toEqual(refused)
  expect(await postMetric(origin, 'k'.repeat(300), 1)).toEqual(refused)
  expect(stats()).toMatchObject({ published: 9, replayed: 2 })
}

/**
 * Rotation through an adapter: an `EventSource` on a stream of topic `t` that ends every
 * `maxDuration` receives `total` events published 2 ms apart, every one, in order, once, and the
 * stream rotated at least twice on the way. `source` must not have opened yet.
 */
export async function checkRotationResumes(
  cleanups: Cleanups,
  source: EventSourceLike,
  publish: (data: string) => unknown,
  rotated: () => number,
  total = 300,
): Promise<void> {
  cleanups.push(() => source.close())
  const received: string[] = []
  source.addEventListener('t', (event) => received.push(event.data))
  await new Promise((resolve) => source.addEventListener('open', resolve))
  for (let i = 0; i < total; i++) {
    publish(String(i))
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  await waitFor(() => received.length >= total, `all ${total} events`, { timeoutMs: 20_000 })
  expect(received).toEqual(Array.from({ length: total }, (_, i) => String(i)))
  expect(rotated()).toBeGreaterThanOrEqual(2)
}
