import { CONTENDER_LABELS, type ContenderId, OURS } from './protocol.js'
import type { BenchResult, ScenarioResult } from './results.js'
import { ratioSpread, type Spread, spread, valuesOf } from './statistics.js'

const PEERS: readonly ContenderId[] = ['better-sse', 'fastify-sse', 'fastify-sse-v2']

/** Best peer's value of `name` in each round (highest). */
function bestPeer(result: ScenarioResult, name: string) {
  return (round: number): number | undefined => {
    const values = result.samples
      .filter((s) => s.round === round && PEERS.includes(s.contender) && name in s.metrics)
      .map((s) => s.metrics[name]!)
    return values.length === 0 ? undefined : Math.max(...values)
  }
}

export interface Check {
  target: string
  measured: Spread
  pass: (value: number) => boolean
  goal: string
}

/**
 * The least deliveries/s against the plain loop: for isolated events, what adaptive write
 * coalescing must reach (2× for core and Fastify, 1.8× for Express); for bursts, no slower than it.
 */
function isolatedOrBurstFloor(pattern: 'isolated' | 'bursts', c: ContenderId): number {
  if (pattern === 'isolated') return c === 'express' ? 1.8 : 2
  return c === 'core' ? 1 : 0.95
}

/** The most RSS or heap per idle connection against the plain loop; Express's RSS may take 1.2×. */
function idleCeiling(what: 'RSS' | 'heap', c: ContenderId): number {
  return what === 'RSS' && c === 'express' ? 1.2 : 1.1
}

export function targetChecks(result: BenchResult): Check[] {
  const checks: Check[] = []
  const byId = (id: string) => result.scenarios.find((s) => s.id === id)
  const present = (scenario: ScenarioResult, c: ContenderId) =>
    scenario.samples.some((s) => s.contender === c)
  // The same goals for both publishing patterns: isolated events (S1) and bursts (S1b).
  for (const [id, pattern] of [
    ['S1', 'isolated'],
    ['S1b', 'bursts'],
  ] as const) {
    const s1 = byId(id)
    if (s1 === undefined) continue
    for (const c of OURS.filter((c) => present(s1, c))) {
      const floor = isolatedOrBurstFloor(pattern, c)
      checks.push({
        target: `${id} (${pattern}) ${CONTENDER_LABELS[c]} vs baseline`,
        measured: ratioSpread(s1.samples, c, 'deliveriesPerSec', 'baseline'),
        pass: (v) => v >= floor,
        goal: `≥ ${floor.toFixed(2)}×`,
      })
      checks.push({
        target: `${id} (${pattern}) ${CONTENDER_LABELS[c]} vs best peer`,
        measured: ratioSpread(s1.samples, c, 'deliveriesPerSec', bestPeer(s1, 'deliveriesPerSec')),
        pass: (v) => v >= 1.25,
        goal: '≥ 1.25×',
      })
    }
  }
  const s2 = byId('S2')
  if (s2 !== undefined) {
    for (const c of OURS.filter((c) => present(s2, c))) {
      checks.push({
        target: `S2 ${CONTENDER_LABELS[c]} p99 vs baseline`,
        measured: ratioSpread(s2.samples, c, 'p99Ms', 'baseline'),
        pass: (v) => v <= 1.1,
        goal: '≤ 1.10×',
      })
    }
  }
  const s3 = byId('S3')
  if (s3 !== undefined) {
    for (const c of OURS.filter((c) => present(s3, c))) {
      for (const [name, what] of [
        ['rssKB', 'RSS'],
        ['heapKB', 'heap'],
      ] as const) {
        const ceiling = idleCeiling(what, c)
        checks.push({
          target: `S3 ${CONTENDER_LABELS[c]} ${what}/conn vs baseline`,
          measured: ratioSpread(s3.samples, c, name, 'baseline'),
          pass: (v) => v <= ceiling,
          goal: `≤ ${ceiling.toFixed(2)}×`,
        })
      }
    }
  }
  const s4 = byId('S4')
  if (s4 !== undefined) {
    for (const c of OURS.filter((c) => present(s4, c))) {
      checks.push({
        target: `S4 ${CONTENDER_LABELS[c]} healthy rate vs no-stall reference`,
        measured: spread(valuesOf(s4.samples, c, 'rateVsReference')),
        pass: (v) => v >= 0.9,
        goal: '≥ 0.90×',
      })
      const held = s4.samples
        .filter((s) => s.contender === c && 'stalledHeldMB' in s.metrics)
        .map((s) => s.metrics.stalledHeldMB! / (s.metrics.boundMB || 1))
      checks.push({
        target: `S4 ${CONTENDER_LABELS[c]} memory held for stalled ÷ bound`,
        measured: spread(held),
        pass: (v) => v <= 1,
        goal: '≤ 1.00',
      })
    }
  }
  return checks
}
