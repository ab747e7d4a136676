import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createBroker } from '@sse/core'
import { EventSource } from 'eventsource'
import { expect, test } from 'vitest'

test('a published event reaches an EventSource subscriber', async () => {
  const broker = createBroker()
  const server = createServer((req, res) => broker.stream(req, res, { topics: ['news'] }))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  const es = new EventSource(`http://127.0.0.1:${port}/`)
  await new Promise((r) => (es.onopen = r))
  const got = new Promise<MessageEvent>((r) => es.addEventListener('news', r))
  await broker.publish('news', { data: '<b>hi</b>\nthere' })
  const ev = await got
  expect(ev.data).toBe('<b>hi</b>\nthere')
  es.close()
  await broker.close()
  await new Promise((r) => server.close(r))
})
