import type { BrokerStats } from '../types.js'

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
