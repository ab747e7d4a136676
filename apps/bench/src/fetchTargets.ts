/**
 * The Fetch adapter's targets: on Node, its ratios to the plain loop within 1.2× of our Node
 * adapters' (`@sse/core`, `@sse/fastify`, `@sse/express`), and ahead of hono's `streamSSE` on
 * every scenario, on Node and on Bun. Both runtimes' rows are ratios to the plain loop of their
 * own runtime in the same round, so a ratio between two contenders of one runtime is the ratio of
 * their raw figures.
 */
import { CONTENDER_LABELS, type ContenderId, OURS } from './protocol.js'
import type { ScenarioResult } from './results.js'
import { ratioSpread } from './statistics.js'
import { type Check, ratioCheck } from './targetCheck.js'

/** How far the Fetch adapter may trail our Node adapters. */
export const WITHIN_OURS = 1.2

/** A metric a target is judged on, and which way is better. */
interface Judged {
  metric: string
  label: string
  better: 'higher' | 'lower'
}

const DELIVERIES: Judged = { metric: 'deliveriesPerSec', label: 'deliveries/s', better: 'higher' }
const P99: Judged = { metric: 'p99Ms', label: 'p99', better: 'lower' }
const RSS: Judged = { metric: 'rssKB', label: 'RSS/conn', better: 'lower' }
const HEAP: Judged = { metric: 'heapKB', label: 'heap/conn', better: 'lower' }

/** The metrics of each scenario the Fetch contenders run in, and its name in a target. */
function judgedIn(scenario: ScenarioResult): { name: string; judged: Judged[] } | undefined {
  const { id } = scenario
  if (id === 'S1') return { name: 'S1 (isolated)', judged: [DELIVERIES] }
  if (id === 'S1b') return { name: 'S1b (bursts)', judged: [DELIVERIES] }
  if (id.startsWith('S2')) {
    return { name: `S2 ${scenario.params['events/s']} events/s`, judged: [P99] }
  }
  if (id === 'S3') return { name: 'S3', judged: [RSS, HEAP] }
  return undefined
}

function present(scenario: ScenarioResult, c: ContenderId): boolean {
  return scenario.samples.some((s) => s.contender === c)
}

/** The best of our Node adapters' values in each round: the highest or the lowest. */
function bestOfOurs(scenario: ScenarioResult, { metric, better }: Judged) {
  return (round: number): number | undefined => {
    const values = scenario.samples
      .filter((s) => s.round === round && OURS.includes(s.contender) && metric in s.metrics)
      .map((s) => s.metrics[metric]!)
    if (values.length === 0) return undefined
    return better === 'higher' ? Math.max(...values) : Math.min(...values)
  }
}

/** `@sse/fetch` on Node ÷ the best of ours in the same round: within {@link WITHIN_OURS}. */
function withinOurs(scenario: ScenarioResult, name: string, judged: Judged): Check {
  const floor = 1 / WITHIN_OURS
  return ratioCheck(
    `${name} ${CONTENDER_LABELS.fetch} ${judged.label} vs the best of ${OURS.map((c) => CONTENDER_LABELS[c]).join(', ')}`,
    ratioSpread(scenario.samples, 'fetch', judged.metric, bestOfOurs(scenario, judged)),
    judged.better === 'higher'
      ? `≥ ${floor.toFixed(2)}× (within ${WITHIN_OURS}×)`
      : `≤ ${WITHIN_OURS.toFixed(2)}×`,
    judged.better === 'higher' ? (v) => v >= floor : (v) => v <= WITHIN_OURS,
  )
}

/** `fetch` ÷ `hono` in the same round: ahead, strictly. */
function aheadOf(
  scenario: ScenarioResult,
  name: string,
  judged: Judged,
  fetch: ContenderId,
  hono: ContenderId,
): Check {
  return ratioCheck(
    `${name} ${CONTENDER_LABELS[fetch]} ${judged.label} vs ${CONTENDER_LABELS[hono]}`,
    ratioSpread(scenario.samples, fetch, judged.metric, hono),
    judged.better === 'higher' ? '> 1.00×' : '< 1.00×',
    judged.better === 'higher' ? (v) => v > 1 : (v) => v < 1,
  )
}

/** The Fetch adapter's targets in `scenario`, for the contenders that ran in it. */
export function fetchChecks(scenario: ScenarioResult): Check[] {
  const judgedHere = judgedIn(scenario)
  if (judgedHere === undefined) return []
  const { name, judged } = judgedHere
  const checks: Check[] = []
  const oursRan = OURS.some((c) => present(scenario, c))
  for (const one of judged) {
    if (present(scenario, 'fetch') && oursRan) checks.push(withinOurs(scenario, name, one))
    for (const [fetch, hono] of [
      ['fetch', 'hono-sse'],
      ['fetch-web', 'hono-sse'],
      ['fetch-bun', 'hono-sse-bun'],
    ] as const) {
      if (present(scenario, fetch) && present(scenario, hono)) {
        checks.push(aheadOf(scenario, name, one, fetch, hono))
      }
    }
  }
  return checks
}
