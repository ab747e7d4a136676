import type { BrokerStats } from '@sse/core'
import type { ServerConfig } from '../protocol.js'

/** The topic (or channel) every benchmark client subscribes to. */
export const TOPIC = 'bench'
/** The path every contender serves its stream on. */
export const EVENTS_PATH = '/events'
/**
 * Our packages refuse streams past `maxConnections` (10,000 by default, exactly S3's count);
 * the benchmark lifts the cap so it measures memory, not the guard.
 */
export const BENCH_MAX_CONNECTIONS = 1_000_000

/** A running contender: an HTTP server on 127.0.0.1 and a way to publish to all its clients. */
export interface ContenderServer {
  readonly port: number
  /** Publishes one event whose data is `payload` to every subscriber, the library's documented way. */
  publish(payload: string): void
  /** Streams the library currently delivers to. */
  subscribers(): number
  /** Library counters, when it has any. */
  stats(): Record<string, number> | undefined
  close(): Promise<void>
}

export type StartContender = (config: ServerConfig) => Promise<ContenderServer>

export function ignore(): void {}

/** A broker's stats as the flat numbers the harness reports (history as its byte count). */
export function brokerCounts(stats: BrokerStats): Record<string, number> {
  const { history, ...counts } = stats
  return { ...counts, historyBytes: history?.bytes ?? 0 }
}
