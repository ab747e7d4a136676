import {
  conflationToken,
  type Delivery,
  ReplayCompaction,
  type ReplayLimits,
  type ReplayResult,
} from '@sse/core/kit'
import type { RedisClient } from '../redisClient.js'
import { compareStreamIds } from '../streamId.js'
import { encodeCursor, splitId } from './cursorVector.js'
import type { PartitionLayout } from './partitionLayout.js'
import { parseTopicEntry, type RawTopicEntry, type TopicEntry } from './topicEntry.js'

/** Entries fetched per `XRANGE` page. */
const PAGE = 200
/** The shortest `id:` line of a replayed frame (`id: ~…\n`), counted until its cursor is known. */
const ID_LINE_AT_LEAST = 6

/** One partition of a replay: what the client has there, and how far this instance has read. */
export interface PartitionRange {
  readonly partition: number
  /** The client's topics in this partition. */
  readonly topics: readonly string[]
  /** The client's position (exclusive), or the cursor's floor as `<ms>-0` (inclusive). */
  readonly from: string
  readonly inclusive: boolean
  /** This instance's position in the partition: the replay ends there. */
  readonly head: string
}

/** What {@link readTopicHistory} reads and answers with. */
export interface TopicHistoryRequest {
  readonly ranges: readonly PartitionRange[]
  /** The client's topics, in its order. */
  readonly wanted: readonly string[]
  /** A client further behind than this many events of a topic gets a reset. */
  readonly topicHistory: number
  readonly limits: ReplayLimits
  /** The client's position in each partition: where the cursors of the replayed events start. */
  readonly start: ReadonlyMap<number, string>
  /** This instance's cursor positions: the last replayed event carries them. */
  readonly heads: ReadonlyMap<number, string>
  /** The least floor of the replayed events' cursors (their newest position is used when later). */
  readonly floor: number
  /** The reset answer, carrying this instance's cursor. */
  readonly reset: ReplayResult & { reset: true }
  skipped(): void
}

interface Found {
  readonly partition: number
  readonly topic: string
  readonly entry: TopicEntry
}

type Gap = 'gap'

/**
 * Reads the events after the client's position on its topics: each topic's stream in its partition
 * from the client's position there up to this instance's, checked for a gap with the topics'
 * publish counters (an entry trimmed, or history evicted, after the client's position is a reset,
 * as is a client more than `topicHistory` events of a topic behind). An event stored in several of
 * the client's topics is answered once, from the first of them it listens to. Keyed events are
 * log-compacted, then the caps apply; each event carries the client's cursor as of that event.
 */
export async function readTopicHistory(
  redis: RedisClient,
  layout: PartitionLayout,
  request: TopicHistoryRequest,
): Promise<ReplayResult> {
  const reads: Promise<Found[] | Gap>[] = []
  for (const range of request.ranges) {
    if (!range.inclusive && compareStreamIds(range.from, range.head) >= 0) continue
    for (const topic of range.topics) reads.push(readTopic(redis, layout, range, topic, request))
  }
  const found: Found[] = []
  for (const result of await Promise.all(reads)) {
    if (result === 'gap') return request.reset
    for (const item of result) found.push(item)
  }
  found.sort(byPosition)
  const wanted = new Set(request.wanted)
  const answer = new ReplayCompaction<Found>(request.limits)
  for (let i = 0; i < found.length; ) {
    const { partition, entry } = found[i]!
    let j = i
    while (j < found.length && found[j]!.partition === partition && found[j]!.entry.id === entry.id)
      j++
    const chosen = choose(found, i, j, wanted, layout)
    i = j
    if (chosen === undefined) continue
    const { topic, entry: event } = chosen
    const token = event.key === undefined ? undefined : conflationToken(topic, event.key)
    const idLine =
      event.wireId === undefined ? ID_LINE_AT_LEAST : Buffer.byteLength(event.wireId) + 5
    if (!answer.add(chosen, event.body.length + idLine, token)) {
      return { ...request.reset, capped: true }
    }
  }
  const kept = answer.finish()
  if (kept === undefined) return { ...request.reset, capped: true }
  const positions = new Map(request.start)
  let bytes = 0
  const deliveries: Delivery[] = kept.map(({ partition, entry }, index) => {
    positions.set(partition, entry.id)
    let id = entry.wireId
    if (id === undefined) {
      id =
        index === kept.length - 1
          ? encodeCursor(new Map([...positions, ...request.heads]), request.floor)
          : encodeCursor(positions, request.floor)
    }
    const frame = Buffer.concat([Buffer.from(`id: ${id}\n`, 'utf8'), entry.body])
    bytes += frame.length
    return { id, topics: entry.topics, frames: [frame] }
  })
  // The caps hold for the frames as written, cursors included.
  if (bytes > request.limits.maxBytes) return { ...request.reset, capped: true }
  return { reset: false, deliveries }
}

/** The entry of an event the client gets, or `undefined` when another partition's copy is its. */
function choose(
  found: readonly Found[],
  from: number,
  to: number,
  wanted: ReadonlySet<string>,
  layout: PartitionLayout,
): Found | undefined {
  const { partition, entry } = found[from]!
  const first = entry.topics.find((topic) => wanted.has(topic))
  if (first === undefined || layout.partitionOf(first) !== partition) return undefined
  for (let k = from; k < to; k++) if (found[k]!.topic === first) return found[k]
  return found[from]
}

function byPosition(a: Found, b: Found): number {
  const [aMs, aSeq] = splitId(a.entry.id)
  const [bMs, bSeq] = splitId(b.entry.id)
  return aMs - bMs || aSeq - bSeq || a.partition - b.partition
}

async function readTopic(
  redis: RedisClient,
  layout: PartitionLayout,
  range: PartitionRange,
  topic: string,
  request: TopicHistoryRequest,
): Promise<Found[] | Gap> {
  const keys = layout.keys(range.partition)
  const key = keys.topic(topic)
  const { from, head, inclusive, partition } = range
  const [before] = (await redis.xrevrangeBuffer(
    key,
    inclusive ? `(${from}` : from,
    '-',
    'COUNT',
    1,
  )) as RawTopicEntry[]
  const beforeCount =
    before === undefined
      ? undefined
      : parseTopicEntry(before[0].toString('latin1'), before[1])?.count
  const found: Found[] = []
  let start = inclusive ? from : `(${from}`
  let expected = beforeCount === undefined ? undefined : beforeCount + 1
  for (;;) {
    const page = (await redis.xrangeBuffer(key, start, head, 'COUNT', PAGE)) as RawTopicEntry[]
    for (const [rawId, fields] of page) {
      const id = rawId.toString('latin1')
      const entry = parseTopicEntry(id, fields)
      if (entry === undefined) {
        request.skipped()
        continue
      }
      if (
        found.length === 0 &&
        expected === undefined &&
        before === undefined &&
        entry.count !== 1
      ) {
        return 'gap'
      }
      if (expected !== undefined && entry.count !== expected) return 'gap'
      expected = entry.count + 1
      found.push({ partition, topic, entry })
      if (found.length > request.topicHistory) return 'gap'
    }
    const last = page[page.length - 1]
    if (page.length < PAGE || last === undefined) break
    start = `(${last[0].toString('latin1')}`
  }
  if (found.length === 0 && before === undefined) {
    const evicted = await redis.hget(keys.head, 'evicted')
    if (
      evicted !== null &&
      compareStreamIds(evicted, inclusive ? `${splitId(from)[0]}-0` : from) > 0
    ) {
      return 'gap'
    }
  }
  return found
}
