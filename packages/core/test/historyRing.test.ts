import { describe, expect, test } from 'vitest'
import { HistoryRing, mergeRings, type RingCursor } from '../src/history/historyRing.js'

interface Item {
  readonly seq: number
}

function ringOf(limit: number, seqs: readonly number[]): HistoryRing<Item> {
  const ring = new HistoryRing<Item>(limit)
  for (const seq of seqs) ring.push({ seq })
  return ring
}

function seqsOf(ring: HistoryRing<Item>): number[] {
  return Array.from({ length: ring.length }, (_, i) => ring.at(i).seq)
}

describe('HistoryRing', () => {
  test('keeps at most its limit, displacing the oldest entry on each push beyond it', () => {
    const ring = new HistoryRing<Item>(3)
    const displaced: Array<number | undefined> = []
    for (let seq = 1; seq <= 6; seq++) displaced.push(ring.push({ seq })?.seq)
    expect(displaced).toEqual([undefined, undefined, undefined, 1, 2, 3])
    expect(seqsOf(ring)).toEqual([4, 5, 6])
    expect(ring.oldest?.seq).toBe(4)
    expect(ring.newest?.seq).toBe(6)
  })

  test('grows its storage by doubling up to the limit, starting from one slot', () => {
    const ring = new HistoryRing<Item>(1000)
    expect(ring.capacity).toBe(1)
    const capacities: number[] = []
    for (let seq = 1; seq <= 1500; seq++) {
      ring.push({ seq })
      if (capacities.at(-1) !== ring.capacity) capacities.push(ring.capacity)
    }
    expect(capacities).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000])
    expect(ring.length).toBe(1000)
    expect(seqsOf(ring)).toEqual(Array.from({ length: 1000 }, (_, i) => 501 + i))
  })

  test('halves its storage as it empties, keeping the order of what remains', () => {
    const ring = ringOf(
      1024,
      Array.from({ length: 1024 }, (_, i) => i + 1),
    )
    while (ring.length > 3) ring.shift()
    expect(ring.capacity).toBeLessThanOrEqual(16)
    expect(seqsOf(ring)).toEqual([1022, 1023, 1024])
    expect(ring.shift()?.seq).toBe(1022)
    expect(ring.shift()?.seq).toBe(1023)
    expect(ring.shift()?.seq).toBe(1024)
    expect(ring.shift()).toBeUndefined()
    expect(ring.oldest).toBeUndefined()
    expect(ring.newest).toBeUndefined()
  })

  test('wraps around its storage and still reads oldest to newest', () => {
    const ring = ringOf(4, [1, 2, 3, 4])
    ring.shift()
    ring.shift()
    ring.push({ seq: 5 })
    ring.push({ seq: 6 })
    expect(seqsOf(ring)).toEqual([3, 4, 5, 6])
  })

  test('firstAfter finds the first entry with a greater seq by binary search over the wrapped order', () => {
    const ring = ringOf(5, [2, 4, 6, 8, 10, 12, 14]) // holds 6..14, wrapped
    expect(seqsOf(ring)).toEqual([6, 8, 10, 12, 14])
    expect(ring.firstAfter(0)).toBe(0)
    expect(ring.firstAfter(6)).toBe(1)
    expect(ring.firstAfter(7)).toBe(1)
    expect(ring.firstAfter(13)).toBe(4)
    expect(ring.firstAfter(14)).toBe(5)
    expect(new HistoryRing<Item>(3).firstAfter(1)).toBe(0)
  })

  test('a ring of one keeps only the newest entry', () => {
    const ring = ringOf(1, [1, 2, 3])
    expect(seqsOf(ring)).toEqual([3])
    expect(ring.capacity).toBe(1)
  })
})

describe('mergeRings', () => {
  const cursorsOf = (...rings: HistoryRing<Item>[]): Array<RingCursor<Item>> =>
    rings.map((ring) => ({ ring, next: 0 }))

  test('visits several rings in seq order, each seq once', () => {
    const seen: number[] = []
    const all = mergeRings(
      cursorsOf(ringOf(10, [1, 4, 5, 9]), ringOf(10, [2, 4, 9, 10]), ringOf(10, [3, 4])),
      (item) => {
        seen.push(item.seq)
        return true
      },
    )
    expect(all).toBe(true)
    expect(seen).toEqual([1, 2, 3, 4, 5, 9, 10])
  })

  test('starts at each cursor and stops as soon as the visitor says so', () => {
    const seen: number[] = []
    const cursors = cursorsOf(ringOf(10, [1, 3, 5, 7]), ringOf(10, [2, 4, 6, 8]))
    cursors[0]!.next = 2
    const all = mergeRings(cursors, (item) => {
      seen.push(item.seq)
      return seen.length < 3
    })
    expect(all).toBe(false)
    expect(seen).toEqual([2, 4, 5])
  })
})
