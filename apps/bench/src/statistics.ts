import type { ContenderId } from './protocol.js'
import type { Sample } from './results.js'

export interface Spread {
  median: number
  min: number
  max: number
  n: number
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((value) => Number.isFinite(value))
  return {
    median: median(finite),
    min: finite.length > 0 ? Math.min(...finite) : Number.NaN,
    max: finite.length > 0 ? Math.max(...finite) : Number.NaN,
    n: finite.length,
  }
}

/** Every value of `metric` measured for `contender`. */
export function valuesOf(
  samples: readonly Sample[],
  contender: ContenderId,
  metric: string,
): number[] {
  return samples
    .filter((sample) => sample.contender === contender && metric in sample.metrics)
    .map((sample) => sample.metrics[metric]!)
}

/**
 * `metric` of `contender` divided by the same metric of `reference` (a contender or, with a
 * function, any per-round figure) in the same round; the spread over rounds.
 */
export function ratioSpread(
  samples: readonly Sample[],
  contender: ContenderId,
  metric: string,
  reference: ContenderId | ((round: number) => number | undefined),
): Spread {
  const ratios: number[] = []
  for (const sample of samples) {
    if (sample.contender !== contender || !(metric in sample.metrics)) continue
    const base =
      typeof reference === 'function'
        ? reference(sample.round)
        : samples.find((other) => other.contender === reference && other.round === sample.round)
            ?.metrics[metric]
    if (base !== undefined && base !== 0 && Number.isFinite(base)) {
      ratios.push(sample.metrics[metric]! / base)
    }
  }
  return spread(ratios)
}
