import { LatencyHistogram } from '../latencyHistogram.js'
import type { ScaleConfig } from './scaleConfig.js'
import type { ClientReport, ScaleMode } from './scaleProtocol.js'

/** One broadcast: how many connections got it, and when the last one did. */
export interface BroadcastResult {
  seq: number
  received: number
  /** ms from the publish call to the last receipt. */
  allDeliveredMs: number
}

/** Every figure and count of one mode's run. */
export interface ModeResult {
  mode: ScaleMode
  pids: { servers: number[]; clients: number[]; publisher: number | undefined }
  ports: number[]
  /** Each client process's source addresses. */
  sourceAddresses: string[][]
  opened: number
  failed: number
  statuses: Record<string, number>
  /** ms until every connection had its response head. */
  connectMs: number
  /** Streams the servers held once every client had connected. */
  subscribers: number
  rssPerConnectionKB: number
  heapPerConnectionKB: number
  /** RSS of all servers together once connected, MB. */
  serversRssMB: number
  /** CPU of all servers over the idle window, % of one core. */
  idleCpuPercent: number
  idleCpuPer10kPercent: number
  idleWindowS: number
  broadcasts: BroadcastResult[]
  p50Ms: number
  p99Ms: number
  maxMs: number
  expected: number
  received: number
  lost: number
  gaps: number
  reorders: number
  /** Connections still open after the last broadcast. */
  openAtEnd: number
  /** What went wrong: a lost or failed connection, a missed broadcast, an error. */
  failures: string[]
}

/**
 * Latency percentiles over every delivery (the client processes' histograms merged), and the
 * loss, gap and order counts; each shortfall becomes a failure.
 */
export function recordDeliveries(
  result: ModeResult,
  reports: readonly ClientReport[],
  config: ScaleConfig,
): void {
  const histogram = new LatencyHistogram()
  for (const report of reports) {
    for (const [bucket, count] of report.histogram) {
      histogram.counts[bucket]! += count
      histogram.count += count
    }
    result.received += report.received
    result.gaps += report.gaps
    result.reorders += report.reorders
    result.openAtEnd += report.open
  }
  result.p50Ms = histogram.percentile(50)
  result.p99Ms = histogram.percentile(99)
  result.maxMs = histogram.percentile(100)
  result.expected = config.connections * config.broadcasts
  result.lost = result.expected - result.received
  if (result.lost !== 0) result.failures.push(`${result.lost} deliveries lost`)
  if (result.gaps + result.reorders !== 0) {
    result.failures.push(`${result.gaps} gaps, ${result.reorders} reorders`)
  }
  if (result.openAtEnd !== config.connections) {
    result.failures.push(`${result.openAtEnd}/${config.connections} connections open at the end`)
  }
}

/** A result with nothing measured yet. */
export function emptyResult(mode: ScaleMode): ModeResult {
  return {
    mode,
    pids: { servers: [], clients: [], publisher: undefined },
    ports: [],
    sourceAddresses: [],
    opened: 0,
    failed: 0,
    statuses: {},
    connectMs: Number.NaN,
    subscribers: 0,
    rssPerConnectionKB: Number.NaN,
    heapPerConnectionKB: Number.NaN,
    serversRssMB: Number.NaN,
    idleCpuPercent: Number.NaN,
    idleCpuPer10kPercent: Number.NaN,
    idleWindowS: 0,
    broadcasts: [],
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    maxMs: Number.NaN,
    expected: 0,
    received: 0,
    lost: 0,
    gaps: 0,
    reorders: 0,
    openAtEnd: 0,
    failures: [],
  }
}
