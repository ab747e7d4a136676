import type { ContenderId } from './protocol.js'

/** One measurement of one contender in one round. */
export interface Sample {
  contender: ContenderId
  round: number
  /** Metric name → value; absent when the run failed. */
  metrics: Record<string, number>
  /** Free text shown under the table (what happened to stalled clients, errors). */
  notes: string[]
  error?: string
}

export interface ScenarioResult {
  id: string
  title: string
  params: Record<string, number | string>
  samples: Sample[]
  /** Extra lines for the report (method notes). */
  method: string[]
  /** Why the scenario failed (not a missed target: something it must never do, such as cut a healthy client). */
  failures?: string[]
}

export interface BenchResult {
  mode: string
  command: string
  machine: {
    cpus: number
    cpuModel: string
    node: string
    /** The Node version the contender servers ran on, when `--node` chose another. */
    serverNode?: string
    /** The Bun version the Bun contenders ran on, when any ran. */
    bun?: string
    platform: string
    date: string
  }
  scenarios: ScenarioResult[]
  /** Wall-clock seconds each scenario of `--only` took, in the order they ran. */
  durations: Record<string, number>
  warnings: string[]
}
