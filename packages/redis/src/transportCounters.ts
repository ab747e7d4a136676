/** Counters shared by the transport and its reader; exposed (copied) by `RedisTransport.stats()`. */
export interface TransportCounters {
  published: number
  delivered: number
  skipped: number
  missed: number
  resets: number
  controlSent: number
  controlReceived: number
  controlSkipped: number
}

export function createCounters(): TransportCounters {
  return {
    published: 0,
    delivered: 0,
    skipped: 0,
    missed: 0,
    resets: 0,
    controlSent: 0,
    controlReceived: 0,
    controlSkipped: 0,
  }
}
