import { diagnostics } from '../diagnostics.js'
import type { SSEError } from '../sseError.js'
import type { SSEStream } from '../stream/sseStream.js'
import type { BrokerStats, SSERequest } from '../types.js'

/** The broker's running counts (the counters of {@link BrokerStats}), shared with the parts that move them. */
export type BrokerCounters = Omit<BrokerStats, 'streams' | 'topics' | 'bufferedBytes' | 'history'>

export function createCounters(): BrokerCounters {
  return {
    published: 0,
    publishFailures: 0,
    delivered: 0,
    dropped: 0,
    slowDisconnects: 0,
    conflated: 0,
    replayed: 0,
    resets: 0,
    snapshots: 0,
    replaysCapped: 0,
    replaysCut: 0,
    refused: 0,
    revoked: 0,
    rotated: 0,
    disconnectFailures: 0,
  }
}

/** Counts a frame a client was spared (conflated), and reports it to `sse:conflate`. */
export function countConflated(broker: object, counters: BrokerCounters, stream: SSEStream): void {
  counters.conflated++
  if (diagnostics.conflate.hasSubscribers) diagnostics.conflate.publish({ broker, stream })
}

/** Counts a frame dropped under `onOverflow: 'drop'`, and reports it to `sse:drop`. */
export function countDropped(broker: object, counters: BrokerCounters, stream: SSEStream): void {
  counters.dropped++
  if (diagnostics.drop.hasSubscribers) diagnostics.drop.publish({ broker, stream })
}

/** Counts a client cut as slow (`duringReplay`: while its replay was written), for `sse:slow-disconnect`. */
export function countSlowDisconnect(
  broker: object,
  counters: BrokerCounters,
  stream: SSEStream,
  duringReplay: boolean,
): void {
  counters.slowDisconnects++
  if (duringReplay) counters.replaysCut++
  if (diagnostics.slowDisconnect.hasSubscribers) {
    diagnostics.slowDisconnect.publish({ broker, stream, duringReplay })
  }
}

/** Counts an event the transport accepted, for `sse:publish`. */
export function countPublished(
  broker: object,
  counters: BrokerCounters,
  id: string,
  topics: readonly string[],
): void {
  counters.published++
  if (diagnostics.publish.hasSubscribers) diagnostics.publish.publish({ broker, id, topics })
}

/** Counts a request answered with a refusal instead of a stream, for `sse:refuse`. */
export function countRefused(
  broker: object,
  counters: BrokerCounters,
  request: SSERequest,
  status: number,
  error: SSEError | undefined,
): void {
  counters.refused++
  if (diagnostics.refuse.hasSubscribers) {
    diagnostics.refuse.publish({ broker, request, status, error })
  }
}
