import { formatNumber } from './benchContext.js'
import { CONTENDER_LABELS, type ContenderId, FLOOR_OF } from './protocol.js'
import type { ScenarioResult } from './results.js'
import { plainLoopOf } from './runtimes.js'
import { ratioSpread, type Spread, spread, valuesOf } from './statistics.js'

export function show(s: Spread, unit = '', format = formatNumber): string {
  if (s.n === 0) return '—'
  const value = `${format(s.median)}${unit}`
  return s.n > 1 && s.min !== s.max ? `${value} (${format(s.min)}–${format(s.max)})` : value
}

/** Three significant digits, for small figures such as syscalls per delivery (0.0104). */
export function precise(value: number): string {
  return Math.abs(value) >= 100 ? formatNumber(value) : Number(value.toPrecision(3)).toString()
}

export function showRatio(s: Spread): string {
  if (s.n === 0) return '—'
  const value = `${s.median.toFixed(2)}×`
  return s.n > 1 && s.min !== s.max ? `${value} (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : value
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ]
}

export function contendersOf(result: ScenarioResult): ContenderId[] {
  const seen: ContenderId[] = []
  for (const sample of result.samples)
    if (!seen.includes(sample.contender)) seen.push(sample.contender)
  return seen
}

export function metric(
  result: ScenarioResult,
  contender: ContenderId,
  name: string,
  unit = '',
  format = formatNumber,
): string {
  return show(spread(valuesOf(result.samples, contender, name)), unit, format)
}

/** The metric ÷ the plain loop's on the contender's own runtime (same round). */
export function vsBaseline(result: ScenarioResult, contender: ContenderId, name: string): string {
  return showRatio(ratioSpread(result.samples, contender, name, plainLoopOf(contender)))
}

/** The adapter's metric ÷ its framework floor's (same round), `—` for the others. */
export function vsFloor(result: ScenarioResult, contender: ContenderId, name: string): string {
  const floor = FLOOR_OF[contender]
  if (floor === undefined) return ''
  return showRatio(ratioSpread(result.samples, contender, name, floor))
}

export function sum(result: ScenarioResult, contender: ContenderId, name: string): string {
  const values = valuesOf(result.samples, contender, name)
  return values.length === 0 ? '—' : formatNumber(values.reduce((a, b) => a + b, 0))
}

/** Errors and notes, one line per contender and text (rounds listed together). */
export function notes(result: ScenarioResult): string[] {
  const rounds = new Map<string, number[]>()
  for (const sample of result.samples) {
    const label = CONTENDER_LABELS[sample.contender]
    const texts = [
      ...(sample.error === undefined ? [] : [`**error** ${sample.error}`]),
      ...sample.notes,
    ]
    for (const text of texts) {
      const key = `${label}\u0000${text}`
      rounds.set(key, [...(rounds.get(key) ?? []), sample.round])
    }
  }
  return [...rounds].map(([key, list]) => {
    const [label, text] = key.split('\u0000')
    const which = list.length === 1 ? `round ${list[0]}` : `rounds ${list.join(', ')}`
    return `- ${label}, ${which}: ${text}`
  })
}
