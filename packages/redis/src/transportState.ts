import type { TransportCounters } from './transportCounters.js'

/** What each layout reports to `RedisTransport.stats()`. */
export interface TransportState {
  readonly counters: TransportCounters
  readonly connected: boolean
  readonly position: string | undefined
  readonly partitionsRead: number
  readonly topicsRead: number
}
