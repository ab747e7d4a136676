import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { MemoryTransport, type MemoryTransportOptions, SSEError } from '@sse/core'
import type { Delivery, ReplayResult } from '@sse/core/kit'
import { errorOf, useCleanups } from '@sse/testkit'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { HistoryRing } from '../src/history/historyRing.js'
import {
  HISTORY_ENTRY_OVERHEAD,
  HISTORY_TOPIC_OVERHEAD,
  sweepInterval,
} from '../src/history/memoryTransport.js'
import { keepAlive } from '../src/stream/keepAlive.js'

const NO_LIMITS = { maxEvents: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY }

const cleanups = useCleanups()
// Hooks run in reverse: real timers are back before the cleanups run.
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

/** A started transport, what it delivered, and shorthands to publish and replay. */
function setup(options: MemoryTransportOptions = {}) {
  const transport = new MemoryTransport(options)
  const delivered: Delivery[] = []
  transport.start({
    deliver: (delivery) => delivered.push(delivery),
    error: (error) => {
      throw error
    },
  })
  cleanups.push(() => transport.close())
  const publish = (
    topics: string | string[],
    data = 'x',
    id?: string,
    { oneFrame = false } = {},
  ) => {
    const list = typeof topics === 'string' ? [topics] : topics
    const bodies = oneFrame
      ? [`data: ${data}\n\n`]
      : list.map((topic) => `event: ${topic}\ndata: ${data}\n\n`)
    return transport.publish(
      id === undefined ? { topics: list, bodies } : { topics: list, bodies, id },
    )
  }
  const replay = (topics: string | string[], lastEventId: string, limits = NO_LIMITS) =>
    transport.replay(typeof topics === 'string' ? [topics] : topics, lastEventId, limits)
  /** Ids of what a replay returns, or 'reset'. */
  const replayed = (topics: string | string[], lastEventId: string, limits = NO_LIMITS) => {
    const result = replay(topics, lastEventId, limits)
    return result.reset ? 'reset' : result.deliveries.map((delivery) => delivery.id)
  }
  const stats = () => transport.historyStats()
  return { transport, delivered, publish, replay, replayed, stats }
}

/** The id before every other id of the transport that issued `id`. */
const zeroOf = (id: string) => id.replace(/-\d+$/, '-0')

/** Bytes accounted for a topic holding frames of these lengths. */
const topicBytes = (...frames: number[]) =>
  HISTORY_TOPIC_OVERHEAD + frames.reduce((sum, length) => sum + length + HISTORY_ENTRY_OVERHEAD, 0)

describe('publishing and replay', () => {
  test('ids are <epoch>-<n>, increasing across topics, and each frame starts with its id line', () => {
    const { publish, delivered } = setup()
    const ids = [publish('a'), publish('b'), publish('a')]
    const epoch = ids[0]!.split('-')[0]
    expect(ids).toEqual([`${epoch}-1`, `${epoch}-2`, `${epoch}-3`])
    expect(delivered.map((d) => d.frames[0]!.toString())).toEqual([
      `id: ${ids[0]}\nevent: a\ndata: x\n\n`,
      `id: ${ids[1]}\nevent: b\ndata: x\n\n`,
      `id: ${ids[2]}\nevent: a\ndata: x\n\n`,
    ])
  })

  test('a replay returns what the topic got after the given id, in order', () => {
    const { publish, replayed } = setup()
    const first = publish('t')
    const later = [publish('t'), publish('t')]
    publish('other')
    expect(replayed('t', first)).toEqual(later)
    expect(replayed('t', later[1]!)).toEqual([])
  })

  test('a replay of several topics merges them in id order and sends an event published to both once', () => {
    const { publish, replayed } = setup()
    const start = publish('c')
    const ids = [publish('a'), publish(['a', 'b']), publish('b'), publish(['b', 'a']), publish('a')]
    expect(replayed(['a', 'b'], start)).toEqual(ids)
    expect(replayed(['b', 'a', 'b'], start)).toEqual(ids)
  })

  test('an unknown id, an id of another transport or garbage gets a reset without "capped"', () => {
    const { publish, replay } = setup()
    const id = publish('t')
    for (const unknown of ['garbage', '', '-', `${id}0`, '0-1', 'zzzz-1']) {
      const result = replay('t', unknown)
      expect(result).toEqual({ reset: true, headId: id })
      expect(result).not.toHaveProperty('capped')
    }
  })

  test('a topic listed twice in one publish holds the event once', () => {
    const { publish, replayed, stats } = setup()
    const start = publish('other')
    const id = publish(['t', 't'])
    expect(replayed('t', start)).toEqual([id])
    expect(stats().events).toBe(2)
  })
})

describe('ids of another instance', () => {
  test('an id from an instance started in the same millisecond is unknown here: a reset, not its events', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000)
    const one = setup()
    const other = setup()
    vi.restoreAllMocks()
    const foreign = one.publish('t')
    other.publish('t')
    other.publish('t')
    expect(other.replayed('t', foreign)).toBe('reset')
  })
})

describe('the head id', () => {
  test('before anything is published, a reset carries an id that replays everything published after it', () => {
    const { publish, replay, replayed } = setup()
    const reset = replay('t', 'from another process')
    expect(reset).toEqual({ reset: true, headId: expect.stringMatching(/^[0-9a-z]+-0$/) })
    const headId = reset.reset ? reset.headId : ''
    expect(replayed('t', headId)).toEqual([])
    const ids = [publish('t'), publish('t')]
    expect(replayed('t', headId)).toEqual(ids)
  })

  test('after a publisher-chosen id, the reset still carries an id the transport can resume from', () => {
    const { publish, replay, replayed } = setup({ historySize: 0 })
    publish('t', 'x', 'chosen-by-app')
    const reset = replay('t', 'unknown')
    expect(reset.reset && reset.headId).not.toBe('chosen-by-app')
    const headId = reset.reset ? reset.headId : ''
    expect(replayed('t', headId)).toEqual([])
  })
})

describe('historySize', () => {
  test('a topic holds at most historySize events after every publish', () => {
    const { publish, replay, replayed, stats } = setup({ historySize: 10 })
    const ids: string[] = []
    for (let i = 0; i < 5000; i++) {
      ids.push(publish(i % 2 === 0 ? 'a' : 'b'))
      expect(stats().events).toBeLessThanOrEqual(10 * stats().topics)
    }
    expect(stats()).toMatchObject({ topics: 2, events: 20 })
    expect(replayed('a', ids[4978]!)).toEqual(ids.slice(4980).filter((_, i) => i % 2 === 0))
    const evicted = replay('a', ids[4977]!)
    expect(evicted).toEqual({ reset: true, headId: ids[4999] })
    expect(evicted).not.toHaveProperty('capped')
  })

  test('historySize 0 keeps nothing, so a replay from before a publish answers a reset', () => {
    const { publish, replay, replayed, stats } = setup({ historySize: 0 })
    const first = publish('t')
    const head = publish('t')
    expect(stats()).toEqual({ topics: 0, events: 0, bytes: 0 })
    expect(replay('t', first)).toEqual({ reset: true, headId: head })
    expect(replayed('t', head)).toEqual([])
  })

  test('a publisher-chosen id resumes while any topic holds its event, and resets once none does', () => {
    const { publish, replayed } = setup({ historySize: 2 })
    publish(['a', 'b'], 'x', 'mine')
    const onA = [publish('a'), publish('a')] // evicts "mine" from a only
    expect(replayed('a', 'mine')).toEqual(onA)
    const onB = [publish('b')]
    expect(replayed('b', 'mine')).toEqual(onB)
    publish('b') // evicts "mine" from b too
    expect(replayed('b', 'mine')).toBe('reset')
  })
})

describe('historyMaxBytes', () => {
  const data = 'x'.repeat(1000)
  /** Bytes of a one-event topic, give or take the length of the id. */
  const unit = topicBytes(1040)

  test('over the bound, whole topics are dropped, least recently published first', () => {
    const { publish, replayed, stats } = setup({ historyMaxBytes: Math.floor(unit * 3.5) })
    const a1 = publish('a', data)
    publish('b', data)
    const c1 = publish('c', data)
    expect(stats()).toMatchObject({ topics: 3, events: 3 })
    const a2 = publish('a', data) // a is now the most recent: b goes
    expect(stats()).toMatchObject({ topics: 2, events: 3 })
    expect(replayed('b', a1)).toBe('reset')
    expect(replayed('a', zeroOf(a1))).toEqual([a1, a2])
    expect(replayed('c', zeroOf(a1))).toEqual([c1])
    const d1 = publish('d', data) // c goes
    expect(replayed('c', zeroOf(a1))).toBe('reset')
    expect(replayed('a', zeroOf(a1))).toEqual([a1, a2])
    expect(replayed('d', a2)).toEqual([d1])
    expect(stats().bytes).toBeLessThanOrEqual(Math.floor(unit * 3.5))
  })

  test('each topic dropped to stay under the bound is announced on sse:history-evict', () => {
    const seen: Array<{ topic: string; bytes: number; total: number }> = []
    const listener = (message: unknown) => seen.push(message as (typeof seen)[number])
    subscribe('sse:history-evict', listener)
    cleanups.push(() => unsubscribe('sse:history-evict', listener))
    const { publish, stats } = setup({ historyMaxBytes: Math.floor(unit * 2.5) })
    publish('a', data)
    publish('b', data)
    expect(seen).toEqual([])
    publish('c', data)
    expect(seen.map((message) => message.topic)).toEqual(['a'])
    expect(seen[0]!.bytes).toBeGreaterThan(1000)
    expect(seen[0]!.total).toBe(stats().bytes)
  })

  test('a topic larger than the bound on its own loses its oldest events instead', () => {
    const max = Math.floor(unit * 3.5)
    const { publish, replayed, stats } = setup({ historyMaxBytes: max })
    const ids = Array.from({ length: 10 }, () => publish('t', data))
    expect(stats()).toMatchObject({ topics: 1, events: 3 })
    expect(stats().bytes).toBeLessThanOrEqual(max)
    expect(replayed('t', ids[6]!)).toEqual(ids.slice(7))
    expect(replayed('t', ids[5]!)).toBe('reset')
  })

  test('an event larger than the bound is delivered but not kept, and a replay across it resets', () => {
    const { publish, replayed, delivered, stats } = setup({ historyMaxBytes: 1000 })
    const before = publish('t', 'small')
    publish('t', 'x'.repeat(2000))
    expect(delivered).toHaveLength(2)
    expect(stats()).toEqual({ topics: 0, events: 0, bytes: 0 })
    expect(replayed('t', before)).toBe('reset')
  })
})

describe('historyStats', () => {
  test('counts topics, events, and bytes as frames plus the per-event and per-topic overheads', () => {
    const { publish, delivered, stats } = setup()
    expect(stats()).toEqual({ topics: 0, events: 0, bytes: 0 })
    publish(['a', 'bb'])
    publish('a')
    publish(['a', 'c'], 'shared frame', undefined, { oneFrame: true })
    const [both, onlyA, shared] = delivered
    const longest = both!.frames[1]!.length
    expect(longest).toBe(both!.frames[0]!.length + 1)
    expect(stats()).toEqual({
      topics: 3,
      events: 5,
      bytes:
        topicBytes(longest, onlyA!.frames[0]!.length, shared!.frames[0]!.length) +
        topicBytes(longest) +
        topicBytes(shared!.frames[0]!.length),
    })
  })

  test('an event whose topics have their own frames charges each topic the longest frame', () => {
    const { publish, delivered, stats } = setup()
    publish(['a', 'a-much-longer-topic-name'])
    const [frames] = delivered.map((delivery) => delivery.frames.map((frame) => frame.length))
    expect(stats().bytes).toBe(2 * topicBytes(Math.max(...frames!)))
  })

  test('goes back to zero as history is evicted, and on close', () => {
    const { transport, publish, stats } = setup({ historySize: 1, historyMaxBytes: 100_000 })
    for (let i = 0; i < 100; i++) publish(['a', `t${i % 7}`], 'y'.repeat(i))
    expect(stats().events).toBe(8)
    transport.close()
    expect(stats()).toEqual({ topics: 0, events: 0, bytes: 0 })
  })
})

describe('historyMaxAge', () => {
  test('aged events are freed by a periodic sweep, without any publish or replay', () => {
    vi.useFakeTimers()
    const { publish, replayed, stats } = setup({ historyMaxAge: 10_000 })
    const first = publish('t0')
    for (let i = 1; i < 100; i++) publish(`t${i % 10}`)
    expect(stats()).toMatchObject({ topics: 10, events: 100 })
    vi.advanceTimersByTime(10_000 + sweepInterval(10_000))
    expect(stats()).toEqual({ topics: 0, events: 0, bytes: 0 })
    expect(replayed('t0', first)).toBe('reset')
  })

  test('the sweep keeps what is younger than the age', () => {
    vi.useFakeTimers()
    const { publish, replayed, stats } = setup({ historyMaxAge: 10_000 })
    const old = publish('t')
    vi.advanceTimersByTime(6_000)
    const young = publish('t')
    vi.advanceTimersByTime(5_000) // one sweep at 10 s: old is 10 s old, not yet older
    expect(stats().events).toBe(2)
    vi.advanceTimersByTime(5_000) // the sweep at 15 s frees old
    expect(stats().events).toBe(1)
    expect(replayed('t', old)).toEqual([young])
  })

  test('a replay never returns an event older than the age, even before the sweep runs', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { publish, replay } = setup({ historyMaxAge: 60_000 })
    const first = publish('t')
    publish('t')
    vi.setSystemTime(Date.now() + 60_001)
    const head = publish('other')
    expect(replay('t', first)).toEqual({ reset: true, headId: head })
  })

  test('the sweep runs every half age, between one second and one minute, on a timer shared by all transports', () => {
    expect([1, 2_000, 10_000, 120_000, 2_147_483_647].map(sweepInterval)).toEqual([
      1000, 1000, 5000, 60_000, 60_000,
    ])
    const timers = keepAlive.timers()
    const aged = Array.from({ length: 3 }, () => setup({ historyMaxAge: 10_000 }).transport)
    setup()
    expect(keepAlive.timers()).toBe(timers + 1)
    for (const transport of aged) transport.close()
    expect(keepAlive.timers()).toBe(timers)
  })
})

describe('replay limits', () => {
  test('a replay of more than maxEvents answers a capped reset', () => {
    const { publish, replay, replayed } = setup()
    const start = publish('t')
    const ids = Array.from({ length: 10 }, () => publish('t'))
    expect(replayed('t', start, { maxEvents: 10, maxBytes: 1e9 })).toEqual(ids)
    expect(replay('t', start, { maxEvents: 9, maxBytes: 1e9 })).toEqual({
      reset: true,
      headId: ids[9],
      capped: true,
    })
  })

  test('a replay of more than maxBytes answers a capped reset, counting the frame written for the asked topics', () => {
    const { publish, replay, replayed, delivered } = setup()
    const start = publish('t')
    publish(['long-topic-name', 't'])
    publish('t')
    const bytes = delivered[1]!.frames[1]!.length + delivered[2]!.frames[0]!.length
    expect(delivered[1]!.frames[0]!.length).toBeGreaterThan(delivered[1]!.frames[1]!.length)
    expect(replayed('t', start, { maxEvents: 100, maxBytes: bytes })).toHaveLength(2)
    expect(replay('t', start, { maxEvents: 100, maxBytes: bytes - 1 })).toMatchObject({
      reset: true,
      capped: true,
    })
    expect(replayed(['long-topic-name', 't'], start, { maxEvents: 100, maxBytes: bytes })).toBe(
      'reset',
    )
  })

  test('a capped replay reads only as far as the cap, not the whole history', () => {
    const { publish, replay } = setup({ historySize: 100_000 })
    const start = publish('a')
    for (let i = 0; i < 50_000; i++) publish(i % 2 === 0 ? 'a' : 'b')
    const reads = vi.spyOn(HistoryRing.prototype, 'at')
    expect(replay(['a', 'b'], start, { maxEvents: 5, maxBytes: 1e9 })).toMatchObject({
      capped: true,
    })
    expect(reads.mock.calls.length).toBeLessThan(100)
  })

  test('without limits a replay is not capped', () => {
    const { transport, publish } = setup({ historySize: 5000 })
    const start = publish('t')
    for (let i = 0; i < 5000; i++) publish('t')
    const replay = transport.replay.bind(transport) as (
      topics: string[],
      id: string,
    ) => ReplayResult
    const result = replay(['t'], start)
    expect(result.reset === false && result.deliveries.length).toBe(5000)
  })
})

describe('options and lifecycle', () => {
  test('invalid options throw INVALID_OPTION naming the key', () => {
    const cases: Array<[MemoryTransportOptions, string]> = [
      [{ historySize: -1 }, '@sse/core: option "historySize" must be >= 0, got -1'],
      [{ historySize: 1.5 }, '@sse/core: option "historySize" must be of type integer, got 1.5'],
      [{ historyMaxAge: -1 }, '@sse/core: option "historyMaxAge" must be >= 0, got -1'],
      [
        { historyMaxAge: 2_147_483_648 },
        '@sse/core: option "historyMaxAge" must be <= 2147483647, got 2147483648',
      ],
      [{ historyMaxBytes: 0 }, '@sse/core: option "historyMaxBytes" must be >= 1, got 0'],
      [{ historyMaxBytes: '32MB' as never }, 'option "historyMaxBytes" must be of type integer'],
    ]
    for (const [options, message] of cases) {
      const error = errorOf(() => new MemoryTransport(options), SSEError)
      expect(error?.code).toBe('INVALID_OPTION')
      expect(error?.message).toContain(message)
    }
    expect(
      errorOf(() => new MemoryTransport({ histroySize: 5 } as never), SSEError)?.message,
    ).toContain('unknown option "histroySize"')
  })

  test('close() releases the history, the sweep timer and publisher-chosen ids', () => {
    const timers = keepAlive.timers()
    const { transport, publish, replay, stats } = setup({ historyMaxAge: 60_000 })
    expect(keepAlive.timers()).toBe(timers + 1)
    const first = publish('t', 'x', 'mine')
    publish('t')
    transport.close()
    expect(keepAlive.timers()).toBe(timers)
    expect(stats()).toEqual({ topics: 0, events: 0, bytes: 0 })
    expect(replay('t', 'mine')).toMatchObject({ reset: true })
    expect(first).toBe('mine')
  })
})
