import { SSEError } from '@sse/core'
import { type RedisTransportOptions, redisTransport } from '@sse/redis'
import { errorOf } from '@sse/testkit'
import { describe, expect, test } from 'vitest'
import { decodeCursor, encodeCursor } from '../../src/partitioned/cursorVector.js'
import { MAX_PARTITIONS, PartitionLayout } from '../../src/partitioned/partitionLayout.js'
import { SLOTS, slotOf } from '../../src/partitioned/slot.js'

describe('hash slots and partitions', () => {
  test('slotOf agrees with the Redis Cluster specification, hash tags included', () => {
    // The specification's CRC16 check value, and keys whose slots Redis documents.
    expect(slotOf('123456789')).toBe(0x31c3)
    expect(slotOf('foo')).toBe(12182)
    expect(slotOf('bar')).toBe(5061)
    expect(slotOf('{user1000}.following')).toBe(slotOf('user1000'))
    expect(slotOf('foo{}{bar}')).toBe(slotOf('foo{}{bar}'))
    expect(slotOf('foo{{bar}}zap')).toBe(slotOf('{bar'))
    expect(slotOf('ü✓')).toBeLessThan(SLOTS)
  })

  test('each partition’s keys share one slot, in the k-th of N equal slot ranges', () => {
    for (const count of [1, 2, 3, 7, MAX_PARTITIONS]) {
      const layout = new PartitionLayout('sse', count)
      for (let k = 0; k < count; k++) {
        const keys = layout.keys(k)
        const slot = slotOf(keys.head)
        expect(
          [keys.topics, keys.topic('a'), keys.topic('{x}y'), keys.wake('i')].map(slotOf),
        ).toEqual([slot, slot, slot, slot])
        expect(slot).toBeGreaterThanOrEqual(Math.floor((k * SLOTS) / count))
        expect(slot).toBeLessThan(Math.floor(((k + 1) * SLOTS) / count))
      }
    }
  })

  test('topics spread over the partitions, and topics sharing a hash tag share a partition', () => {
    const layout = new PartitionLayout('sse', 3)
    const used = new Set(Array.from({ length: 60 }, (_, i) => layout.partitionOf(`room-${i}`)))
    expect(used).toEqual(new Set([0, 1, 2]))
    expect(layout.partitionOf('{room:7}:chat')).toBe(layout.partitionOf('{room:7}:presence'))
  })
})

describe('cursors', () => {
  test('a cursor names each partition’s stream id and its floor, and reads back the same', () => {
    const positions = new Map([
      [2, '1765000000123-4'],
      [0, '1765000000000-0'],
    ])
    const cursor = encodeCursor(positions, 1765000000200)
    expect(decodeCursor(cursor, 3)).toEqual({
      floor: 1765000000200,
      positions: new Map([
        [0, '1765000000000-0'],
        [2, '1765000000123-4'],
      ]),
    })
    // The floor is never before a position.
    expect(decodeCursor(encodeCursor(positions, 0), 3)?.floor).toBe(1765000000123)
  })

  test('16 partitions up to two years apart, with large sequences, fit in 256 characters; older positions are written two and a half years behind', () => {
    const now = 1_765_000_000_000
    const year = 365 * 24 * 3600 * 1000
    const positions = new Map(
      Array.from(
        { length: MAX_PARTITIONS },
        (_, k) => [k, `${now - Math.floor((2 * year * k) / 15)}-${1_600_000 + k}`] as const,
      ),
    )
    const cursor = encodeCursor(positions, now)
    expect(cursor.length).toBeLessThanOrEqual(256)
    expect(decodeCursor(cursor, MAX_PARTITIONS)?.positions).toEqual(positions)
    const stale = decodeCursor(
      encodeCursor(
        new Map([
          [0, '1-5'],
          [1, `${now}-0`],
        ]),
        now,
      ),
      2,
    )
    expect(stale?.positions.get(0)).toBe(`${now - (36 ** 7 - 1)}-0`)
  })

  test('garbage, foreign ids and ids of another layout read as nothing', () => {
    const valid = encodeCursor(new Map([[1, '1765000000000-3']]), 0)
    for (const id of [
      '',
      '1765000000000-3',
      'x'.repeat(300),
      `${valid}.`,
      `${valid}.10-0`,
      'gone',
      'mf3k2a1c.00-4',
      '~zzzzzzzzzzzz',
      '~mf3k2a1c.00-4.00-5',
      '~mf3k2a1c.20-4.10-5',
      '~mf3k2a1c.0zzzzzzzz-0',
      '~0.0z-0',
      ' ~mf3k2a1c',
      '~mf3k2a1c.g0-0',
      '~~mf3k2a1c',
    ]) {
      expect(decodeCursor(id, 3), id).toBeUndefined()
    }
    expect(decodeCursor(valid, 3)).toBeDefined()
    expect(decodeCursor(valid, 1)).toBeUndefined()
  })
})

describe('partitioned options', () => {
  test('bad or conflicting options throw INVALID_OPTION naming them, before any connection', () => {
    const cases: [RedisTransportOptions, RegExp][] = [
      [{ partitions: 0 }, /partitions/],
      [{ partitions: 17 }, /partitions/],
      [{ partitions: 2.5 }, /partitions/],
      [{ topicHistory: 0 }, /topicHistory/],
      [{ maxTopics: -1 }, /maxTopics/],
      [{ partitions: 4, maxTopics: 3 }, /"maxTopics" \(3\) must be at least "partitions" \(4\)/],
      [{ partitions: 2, historySize: 10 }, /"historySize" belongs to the single-stream layout/],
      [{ topicHistory: 5, keyPrefix: 'app{1}' }, /"keyPrefix" cannot hold/],
    ]
    for (const [options, message] of cases) {
      const error = errorOf(() => redisTransport(options))
      expect(error, JSON.stringify(options)).toBeInstanceOf(SSEError)
      expect((error as SSEError).code).toBe('INVALID_OPTION')
      expect((error as SSEError).message).toMatch(message)
    }
  })
})
