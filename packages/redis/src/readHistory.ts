import {
  conflationToken,
  type Delivery,
  ReplayCompaction,
  type ReplayLimits,
  type ReplayResult,
} from '@sse/core/kit'
import type { Redis } from 'ioredis'
import { parseEntry } from './streamEntry.js'
import { STREAM_START } from './streamId.js'

/** Most entries fetched per `XRANGE` page. */
const PAGE = 500
/** Fewest entries fetched per page, however close the caps are: a sparse topic needs few round trips. */
const MIN_PAGE = 50

/** Where and how far {@link readHistory} reads. */
export interface HistoryRequest {
  readonly key: string
  readonly topics: readonly string[]
  /** The client's last event id: a stream id before `head`, or `0-0` (from the start). */
  readonly after: string
  /** The last entry delivered live on this instance: the replay ends there. */
  readonly head: string
  /** Publish counter of `head` (`undefined` when unknown): how far behind the client is. */
  readonly headCount: number | undefined
  /** The client may be at most this many events behind. */
  readonly historySize: number
  /** Caps on the answer: past either, reading stops and the answer is a capped reset. */
  readonly limits: ReplayLimits
  /** Called for each entry not written by `@sse/redis`, which is skipped. */
  readonly skipped: () => void
}

const NO_REPLAY: ReplayResult = { reset: false, deliveries: [] }

/**
 * Reads the entries in `(after, head]` on the requested topics with `XRANGE`, in pages. Each page
 * starts AT the previous page's last id and must find it there: if trimming removed it meanwhile,
 * entries may be missing, and the answer is a reset (`headId: head`). So is a client whose id is
 * gone from the stream, or more than `historySize` events behind (the publish counters tell).
 *
 * Keyed events are log-compacted (only the newest per topic and key is answered), and then the
 * `limits` apply: reading stops as soon as the answer passes them whatever follows (`capped: true`),
 * and no page asks for many more entries than the caps could still take. Each answered event
 * carries only the frame it is written with for these topics, copied out of the Redis reply: a reply
 * buffer holds the entries of other topics too, and must not stay in memory for as long as a slow
 * client holds its replay.
 */
export async function readHistory(redis: Redis, request: HistoryRequest): Promise<ReplayResult> {
  const { key, head, headCount, historySize, limits } = request
  const reset: ReplayResult = { reset: true, headId: head }
  const tooFar = (count: number) => headCount !== undefined && headCount - count > historySize
  const wanted = new Set(request.topics)
  const answer = new ReplayCompaction<Delivery>(limits)
  let from = request.after === STREAM_START ? '-' : request.after
  for (let pages = 0; ; pages++) {
    const size = pageSize(limits, answer.events, answer.bytes)
    const page = await redis.xrangeBuffer(key, from, head, 'COUNT', size + 1)
    const first = page[0]
    let start = 1
    if (from === '-') {
      // From the start of the stream: only if nothing was trimmed since the first publish.
      if (first !== undefined && parseEntry(first[0].toString('latin1'), first[1])?.count !== 1) {
        return reset
      }
      if (tooFar(0)) return reset
      start = 0
    } else if (first === undefined || first[0].toString('latin1') !== from) {
      return reset
    } else if (pages === 0) {
      const count = parseEntry(from, first[1])?.count
      if (count !== undefined && tooFar(count)) return reset
    }
    for (let i = start; i < page.length; i++) {
      const [rawId, fields] = page[i]!
      const entry = parseEntry(rawId.toString('latin1'), fields)
      if (entry === undefined) {
        request.skipped()
        continue
      }
      const topic = topicFor(entry.delivery, wanted)
      if (topic === -1) continue
      const { id, topics, frames, key } = entry.delivery
      const frame = frames.length === 1 ? frames[0]! : frames[topic]!
      const token = key === undefined ? undefined : conflationToken(topics[topic]!, key)
      // Still the reply's buffer: copied below, only if it is kept.
      if (!answer.add({ id, topics, frames: [frame] }, frame.length, token)) {
        return { reset: true, headId: head, capped: true }
      }
    }
    const last = page[page.length - 1]
    if (page.length < size + 1 || last === undefined) break
    from = last[0].toString('latin1')
  }
  const kept = answer.finish()
  if (kept === undefined) return { reset: true, headId: head, capped: true }
  if (kept.length === 0) return NO_REPLAY
  const deliveries = kept.map(({ id, topics, frames }) => ({
    id,
    topics,
    frames: [Buffer.from(frames[0]!)],
  }))
  return { reset: false, deliveries }
}

/**
 * Which of `delivery`'s topics a subscriber of `wanted` gets it for (as the broker picks it: the
 * first of its topics among them; its frame is written, its key conflated under it), or `-1` when
 * it is on none of them.
 */
function topicFor(delivery: Delivery, wanted: ReadonlySet<string>): number {
  const topics = delivery.topics
  for (let i = 0; i < topics.length; i++) if (wanted.has(topics[i]!)) return i
  return -1
}

/**
 * Entries to ask for next: at most what the caps could still take if every entry matched (events
 * left, and bytes left at the average frame size so far), one more to prove a cap passed.
 */
function pageSize(limits: ReplayLimits, events: number, bytes: number): number {
  const byEvents = limits.maxEvents - events + 1
  const byBytes = events === 0 ? PAGE : Math.ceil(((limits.maxBytes - bytes) * events) / bytes) + 1
  return Math.max(MIN_PAGE, Math.min(PAGE, byEvents, byBytes))
}
