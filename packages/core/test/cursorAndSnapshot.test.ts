import type { BrokerOptions, BrokerStreamOptions, SSEError } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)

/** A broker behind a real server; `streamOptions` are given to every stream on topic `t`. */
async function setup(options: BrokerOptions = {}, streamOptions: BrokerStreamOptions = {}) {
  const errors: SSEError[] = []
  const { broker, url } = await serveBroker(
    cleanups,
    { onError: (error) => errors.push(error), ...options },
    (broker, req, res) => broker.stream(req, res, { topics: ['t'], ...streamOptions }),
  )
  const connect = (query = '', headers: Record<string, string> = {}) =>
    openStream(`${url}/${query}`, { headers })
  return { broker, errors, connect }
}

describe('the render-time cursor', () => {
  test('events published between the render and the connection arrive once each, in order', async () => {
    const { broker, connect } = await setup()
    await broker.publish('t', 'before the render')
    const cursor = broker.cursor()! // taken while the page renders its state
    const between = [await broker.publish('t', 'a'), await broker.publish('t', 'b')]
    const client = await connect(`?lastEventId=${encodeURIComponent(cursor)}`)
    await client.take(2)
    const live = await broker.publish('t', 'c')
    await client.take(1)
    expect(client.events.map((event) => [event.id, event.data])).toEqual([
      [between[0], 'a'],
      [between[1], 'b'],
      [live, 'c'],
    ])
  })

  test('a cursor taken before anything was published resumes too: no reset, then every event', async () => {
    const { broker, connect } = await setup()
    const cursor = broker.cursor()!
    const first = await broker.publish('t', 'first')
    const client = await connect(`?lastEventId=${encodeURIComponent(cursor)}`)
    await client.take(1)
    expect(client.events[0]).toMatchObject({ id: first, data: 'first' })
    expect(broker.stats().resets).toBe(0)
  })

  test('the cursor is the id of the last event published, whatever its topic', async () => {
    const { broker } = await setup()
    await broker.publish('t', 'x')
    const last = await broker.publish('elsewhere', 'y')
    expect(broker.cursor()).toBe(last)
  })
})

describe('a snapshot instead of the reset event', () => {
  test('a client whose id cannot be resumed gets the snapshot, carrying the cursor, then live events', async () => {
    let state = ['one', 'two']
    const { broker, connect } = await setup(
      {},
      { snapshot: () => ({ event: 'notes', data: state.join(',') }) },
    )
    await broker.publish('t', 'one')
    await broker.publish('t', 'two')
    const client = await connect('', { 'last-event-id': 'from-a-previous-process' })
    await client.take(1)
    expect(client.events[0]).toMatchObject({ event: 'notes', data: 'one,two', id: broker.cursor() })
    state = [...state, 'three']
    const live = await broker.publish('t', 'three')
    await client.take(1)
    expect(client.events[1]).toMatchObject({ id: live, data: 'three' })
    expect(client.text()).not.toContain('sse-reset')
    expect(broker.stats()).toMatchObject({ snapshots: 1, resets: 0 })
  })

  test('events published while an async snapshot is computed follow it, each once; earlier ones are in it', async () => {
    const notes = ['n1']
    let release: () => void = () => {}
    const { broker, connect } = await setup(
      {},
      {
        snapshot: async () => {
          const seen = [...notes] // the state as of the cursor
          await new Promise<void>((resolve) => (release = resolve))
          return { event: 'notes', data: seen.join(',') }
        },
      },
    )
    const client = await connect('', { 'last-event-id': 'unknown' })
    await new Promise((resolve) => setImmediate(resolve))
    notes.push('n2')
    const during = await broker.publish('t', 'n2')
    release()
    await client.take(2)
    expect(client.events.map((event) => event.data)).toEqual(['n1', 'n2'])
    expect(client.events[1]!.id).toBe(during)
  })

  test('a snapshot of several events sends them in order; only the last carries the cursor', async () => {
    const { broker, connect } = await setup(
      {},
      {
        snapshot: () => [
          { event: 'a', data: '1' },
          { event: 'b', data: '2' },
        ],
      },
    )
    await broker.publish('t', 'x')
    const client = await connect('', { 'last-event-id': 'unknown' })
    await client.take(2)
    expect(client.events.map((event) => [event.event, event.id])).toEqual([
      ['a', undefined],
      ['b', broker.cursor()],
    ])
  })

  test('a replay over a cap gets the snapshot, counted as capped', async () => {
    const { broker, connect } = await setup(
      { maxReplayEvents: 2 },
      { snapshot: () => ({ event: 'all', data: 'state' }) },
    )
    const first = await broker.publish('t', '1')
    for (let i = 2; i <= 5; i++) await broker.publish('t', String(i))
    const client = await connect('', { 'last-event-id': first })
    await client.take(1)
    expect(client.events[0]).toMatchObject({ event: 'all', data: 'state' })
    expect(broker.stats()).toMatchObject({ snapshots: 1, replaysCapped: 1 })
  })

  test('a client that can be resumed gets its replay, not the snapshot', async () => {
    let asked = 0
    const snapshot = () => {
      asked++
      return { data: 'state' }
    }
    const { broker, connect } = await setup({}, { snapshot })
    const from = await broker.publish('t', '1')
    await broker.publish('t', '2')
    const client = await connect('', { 'last-event-id': from })
    await client.take(1)
    expect(client.events[0]!.data).toBe('2')
    expect(asked).toBe(0)
  })

  test.each([
    [
      'throws',
      () => {
        throw new Error('db down')
      },
    ],
    ['rejects', () => Promise.reject(new Error('db down'))],
    ['answers null', () => null],
    ['answers an empty list', () => []],
  ])(
    'a snapshot that %s falls back to the reset event and reports SNAPSHOT_FAILED',
    async (_, snapshot) => {
      const { broker, errors, connect } = await setup({}, { snapshot: snapshot as never })
      await broker.publish('t', 'x')
      const client = await connect('', { 'last-event-id': 'unknown' })
      await client.take(1)
      expect(client.events[0]).toMatchObject({ event: 'sse-reset', id: broker.cursor() })
      expect(errors.map((error) => error.code)).toEqual(['SNAPSHOT_FAILED'])
      const live = await broker.publish('t', 'after')
      await client.take(1)
      expect(client.events[1]!.id).toBe(live)
    },
  )

  test('a snapshot that is not a function is refused as INVALID_OPTION with a 500, never a throw', async () => {
    const { broker, errors, connect } = await setup({}, { snapshot: 'state' as never })
    const client = await connect()
    await client.ended()
    expect(client.status).toBe(500)
    expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
    expect(broker.stats().streams).toBe(0)
  })
})
