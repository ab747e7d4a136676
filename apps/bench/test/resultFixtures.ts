import type { ContenderId } from '../src/protocol.js'
import type { BenchResult, Sample, ScenarioResult } from '../src/results.js'
import type { Check } from '../src/targetChecks.js'

/** One sample per contender and round: `metrics[contender]` holds its metrics in rounds 1, 2, 3. */
export function scenario(
  id: string,
  metrics: Partial<Record<ContenderId, Record<string, number>[]>>,
  params: ScenarioResult['params'] = {},
  failures?: string[],
): ScenarioResult {
  const samples: Sample[] = []
  for (const [contender, rounds] of Object.entries(metrics)) {
    for (const [i, values] of (rounds ?? []).entries()) {
      samples.push({
        contender: contender as ContenderId,
        round: i + 1,
        metrics: values,
        notes: [],
      })
    }
  }
  return { id, title: id, params, samples, method: [], ...(failures && { failures }) }
}

export function result(...scenarios: ScenarioResult[]): BenchResult {
  return {
    mode: 'full',
    command: 'pnpm bench --full',
    machine: { cpus: 2, cpuModel: 'test', node: 'v20.0.0', platform: 'linux x64', date: '' },
    scenarios,
    durations: {},
    warnings: [],
  }
}

/** The check whose target names `target`. */
export function check(checks: Check[], target: string): Check {
  const found = checks.find((c) => c.target.includes(target))
  if (found === undefined) throw new Error(`no check "${target}" in ${checks.map((c) => c.target)}`)
  return found
}

export const rounds = (...values: Record<string, number>[]) => values
