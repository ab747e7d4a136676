import { showRatio } from './reportFormat.js'
import type { Spread } from './statistics.js'

/** One row of the targets table. */
export interface Check {
  target: string
  /** The figure as the report shows it. */
  measured: string
  goal: string
  /** `undefined` when nothing was measured. */
  passed: boolean | undefined
}

/** A check on the median over rounds of a per-round ratio. */
export function ratioCheck(
  target: string,
  measured: Spread,
  goal: string,
  pass: (median: number) => boolean,
): Check {
  return {
    target,
    measured: showRatio(measured),
    goal,
    passed: measured.n === 0 ? undefined : pass(measured.median),
  }
}
