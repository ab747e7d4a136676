import type { Delivery, ReplayResult } from '@sse/core'
import type { Redis } from 'ioredis'
import { parseEntry } from './streamEntry.js'
import { STREAM_START } from './streamId.js'

/** Entries fetched per `XRANGE` page. */
const PAGE = 500

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
  /** Called for each entry not written by `@sse/redis`, which is skipped. */
  readonly skipped: () => void
}

const NO_REPLAY: ReplayResult = { reset: false, deliveries: [] }

/**
 * Reads the entries in `(after, head]` on the requested topics with `XRANGE`, in pages. Each page
 * starts AT the previous page's last id and must find it there: if trimming removed it meanwhile,
 * entries may be missing, and the answer is a reset (`headId: head`). So is a client whose id is
 * gone from the stream, or more than `historySize` events behind (the publish counters tell).
 */
export async function readHistory(redis: Redis, request: HistoryRequest): Promise<ReplayResult> {
  const { key, head, headCount, historySize } = request
  const reset: ReplayResult = { reset: true, headId: head }
  const tooFar = (count: number) => headCount !== undefined && headCount - count > historySize
  const wanted = new Set(request.topics)
  const deliveries: Delivery[] = []
  let from = request.after === STREAM_START ? '-' : request.after
  for (let pages = 0; ; pages++) {
    const page = await redis.xrangeBuffer(key, from, head, 'COUNT', PAGE + 1)
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
      if (entry === undefined) request.skipped()
      else if (entry.delivery.topics.some((topic) => wanted.has(topic))) {
        deliveries.push(entry.delivery)
      }
    }
    const last = page[page.length - 1]
    if (page.length < PAGE + 1 || last === undefined) break
    from = last[0].toString('latin1')
  }
  return deliveries.length === 0 ? NO_REPLAY : { reset: false, deliveries }
}
