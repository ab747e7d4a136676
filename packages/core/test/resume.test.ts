import { type BrokerOptions, MAX_LAST_EVENT_ID_LENGTH } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)

async function setup(options: BrokerOptions = {}) {
  const { broker, url } = await serveBroker(cleanups, options)
  const connect = (headers: Record<string, string> = {}, query = '') =>
    openStream(`${url}/${query}`, { headers })
  return { broker, url, connect }
}

describe('resuming never fails silently', () => {
  test('an over-long Last-Event-ID gets the reset event', async () => {
    const { broker, connect } = await setup()
    await broker.publish('t', 'missed?')
    const client = await connect({ 'last-event-id': 'x'.repeat(MAX_LAST_EVENT_ID_LENGTH + 1) })
    await client.take(1)
    expect(client.events[0]).toMatchObject({ event: 'sse-reset', data: '' })
    expect(broker.stats().resets).toBe(1)
  })

  test('an over-long lastEventId query parameter, or one with control characters, gets the reset event', async () => {
    const { connect } = await setup()
    for (const id of ['y'.repeat(300), 'a\u0001b']) {
      const client = await connect({}, `?lastEventId=${encodeURIComponent(id)}`)
      await client.take(1)
      expect(client.events[0]?.event).toBe('sse-reset')
    }
  })

  test('the reset sent before anything was published carries a cursor: a client that drops again gets everything after it', async () => {
    const { broker, connect } = await setup()
    const first = await connect({ 'last-event-id': 'from-another-process' })
    await first.take(1)
    const reset = first.events[0]!
    expect(reset.event).toBe('sse-reset')
    expect(reset.id).toMatch(/^[0-9a-z]+-0$/)
    first.close()
    const published = [await broker.publish('t', 'a'), await broker.publish('t', 'b')]
    const again = await connect({ 'last-event-id': reset.id! })
    await again.take(2)
    expect(again.events.map((event) => [event.id, event.data])).toEqual([
      [published[0], 'a'],
      [published[1], 'b'],
    ])
  })

  test('a publisher-chosen id with non-ASCII characters resumes through a real EventSource', async () => {
    const { broker, url } = await setup()
    await broker.publish('t', { id: 'note-ü-1', data: 'one' })
    const source = new EventSource(url)
    cleanups.push(() => source.close())
    const seen: string[] = []
    await new Promise<void>((resolve) => {
      source.addEventListener('t', (event) => {
        seen.push(event.data)
        if (seen.length === 1) {
          broker.publish('t', { id: 'note-ü-2', data: 'two' })
        }
        if (seen.length === 2) resolve()
      })
      source.addEventListener('open', () => {
        if (seen.length === 0) broker.publish('t', { id: 'note-ü-0', data: 'zero' })
      })
    })
    expect(seen).toEqual(['zero', 'two'])
    const resumed = await openStream(`${url}/?lastEventId=${encodeURIComponent('note-ü-0')}`)
    await resumed.take(1)
    expect(resumed.events[0]).toMatchObject({ id: 'note-ü-2', data: 'two' })
  })

  test('a non-ASCII id resumes from the header whether the client sends it as UTF-8 (browsers) or Latin-1', async () => {
    const { broker, connect } = await setup()
    const from = await broker.publish('t', { id: 'note-ü-1', data: 'one' })
    await broker.publish('t', { id: 'note-ü-2', data: 'two' })
    for (const header of [Buffer.from(from, 'utf8').toString('latin1'), from]) {
      const client = await connect({ 'last-event-id': header })
      await client.take(1)
      expect(client.events[0]).toMatchObject({ id: 'note-ü-2', data: 'two' })
    }
  })

  test('a replay over maxReplayEvents gets the reset event with a resumable cursor, counted as capped', async () => {
    const { broker, connect } = await setup({ maxReplayEvents: 5 })
    const ids: string[] = []
    for (let i = 0; i < 10; i++) ids.push(await broker.publish('t', `e${i}`))
    const under = await connect({ 'last-event-id': ids[4]! })
    await under.take(5)
    expect(under.events.map((event) => event.data)).toEqual(['e5', 'e6', 'e7', 'e8', 'e9'])
    const over = await connect({ 'last-event-id': ids[3]! })
    await over.take(1)
    expect(over.events[0]).toMatchObject({ event: 'sse-reset', id: ids[9] })
    expect(broker.stats()).toMatchObject({ resets: 1, replaysCapped: 1, replayed: 5 })
  })

  test('a replay over maxReplayBytes gets the reset event', async () => {
    const { broker, connect } = await setup({ maxReplayBytes: 1000 })
    const first = await broker.publish('t', 'x'.repeat(600))
    await broker.publish('t', 'y'.repeat(600))
    await broker.publish('t', 'z'.repeat(600))
    const client = await connect({ 'last-event-id': first })
    await client.take(1)
    expect(client.events[0]?.event).toBe('sse-reset')
    expect(broker.stats().replaysCapped).toBe(1)
  })
})
