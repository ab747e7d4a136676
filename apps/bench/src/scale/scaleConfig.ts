import { execFileSync } from 'node:child_process'
import type { ScaleMode } from './scaleProtocol.js'

/** Sockets one process may hold: under the 20,000 open files a child can raise itself to. */
export const MAX_SOCKETS_PER_PROCESS = 18_000
/** File descriptors a child needs beside its sockets (node, IPC, Redis). */
const FD_HEADROOM = 512

/** Every number of the scale scenario; `--<name>=<value>` sets one (see scaleRun.ts). */
export interface ScaleConfig {
  connections: number
  /** Server processes, each an app instance on a port of its own. */
  servers: number
  /** Client processes, each from a loopback source address of its own. */
  clients: number
  /** Broadcast events, one at a time. */
  broadcasts: number
  /** Bytes of each broadcast's data. */
  size: number
  /** Seconds over which idle CPU is measured. */
  idle: number
  /** Connections each client process opens at once. */
  concurrency: number
  /** ms a broadcast may take to reach every client before it counts as lost. */
  timeout: number
  /** ms of quiet between broadcasts. */
  gap: number
  /** Ours: `redisTransport({ partitions })`, passed only when given. */
  partitions: number | undefined
  modes: ScaleMode[]
  json: string | undefined
  md: string | undefined
}

export const SCALE_DEFAULTS: ScaleConfig = {
  connections: 100_000,
  servers: 6,
  clients: 6,
  broadcasts: 5,
  size: 200,
  idle: 30,
  concurrency: 128,
  timeout: 60_000,
  gap: 1000,
  partitions: undefined,
  modes: ['plain', 'ours'],
  json: undefined,
  md: undefined,
}

const COUNTS = [
  'connections',
  'servers',
  'clients',
  'broadcasts',
  'size',
  'concurrency',
  'timeout',
  'partitions',
] as const

/**
 * The config of `--connections=100000 --servers=6 --clients=6 …` (`resolvePath` turns `--json=`
 * and `--md=` into absolute paths); throws on an unknown flag, a bad number, or a layout that puts
 * more than {@link MAX_SOCKETS_PER_PROCESS} sockets in one process.
 */
export function parseScaleArgs(
  argv: readonly string[],
  resolvePath: (path: string) => string = (path) => path,
): ScaleConfig {
  const config: ScaleConfig = { ...SCALE_DEFAULTS, modes: [...SCALE_DEFAULTS.modes] }
  for (const flag of argv) {
    if (flag === '--') continue
    const match = /^--([a-z]+)=(.*)$/.exec(flag)
    if (match === null) throw new Error(`unknown argument "${flag}" (see src/scale/scaleRun.ts)`)
    const [, key, value] = match as unknown as [string, string, string]
    if (key === 'json' || key === 'md') config[key] = resolvePath(value)
    else if (key === 'modes') {
      config.modes = value.split(',').map((mode) => {
        if (mode !== 'plain' && mode !== 'ours') throw new Error(`--modes: unknown mode "${mode}"`)
        return mode
      })
    } else if (key === 'idle' || key === 'gap') config[key] = nonNegative(key, value)
    else if ((COUNTS as readonly string[]).includes(key)) {
      config[key as (typeof COUNTS)[number]] = positiveInteger(key, value)
    } else throw new Error(`unknown option --${key}`)
  }
  for (const [what, processes] of [
    ['servers', config.servers],
    ['clients', config.clients],
  ] as const) {
    if (share(config.connections, processes) > MAX_SOCKETS_PER_PROCESS) {
      throw new Error(
        `--${what}=${processes} puts ${share(config.connections, processes)} sockets in one process; at most ${MAX_SOCKETS_PER_PROCESS} fit its open-file limit: use --${what}=${Math.ceil(config.connections / MAX_SOCKETS_PER_PROCESS)} or more`,
      )
    }
  }
  return config
}

/** The most connections one of `processes` processes holds. */
export function share(connections: number, processes: number): number {
  return Math.ceil(connections / processes)
}

/** `total` split into `parts` near-equal integers (the first ones one larger). */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  )
}

/**
 * The soft fd limit to give a child holding `sockets` sockets; throws when the hard limit
 * (`ulimit -Hn`) does not allow it.
 */
export function fdLimitFor(sockets: number): number {
  const needed = sockets + FD_HEADROOM
  const text = execFileSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()
  const hard = text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text)
  if (needed > hard) {
    throw new Error(
      `a process needs ${needed} open files but the hard limit (ulimit -Hn) is ${hard}: use more processes`,
    )
  }
  return needed
}

function positiveInteger(key: string, value: string): number {
  const number = Number(value)
  if (value.trim() === '' || !Number.isInteger(number) || number < 1) {
    throw new Error(`--${key}: expected a positive integer, got "${value}"`)
  }
  return number
}

function nonNegative(key: string, value: string): number {
  const number = Number(value)
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new Error(`--${key}: expected a number ≥ 0, got "${value}"`)
  }
  return number
}
