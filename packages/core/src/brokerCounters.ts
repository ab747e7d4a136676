/** The broker's running counts, shared with the parts that move them. */
export interface BrokerCounters {
  published: number
  publishFailures: number
  delivered: number
  dropped: number
  slowDisconnects: number
  replayed: number
  resets: number
  snapshots: number
  replaysCapped: number
  replaysCut: number
  refused: number
}

export function createCounters(): BrokerCounters {
  return {
    published: 0,
    publishFailures: 0,
    delivered: 0,
    dropped: 0,
    slowDisconnects: 0,
    replayed: 0,
    resets: 0,
    snapshots: 0,
    replaysCapped: 0,
    replaysCut: 0,
    refused: 0,
  }
}
