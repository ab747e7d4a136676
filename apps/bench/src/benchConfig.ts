/** Every number the scenarios use; `--<scenario>.<name>=<value>` overrides one. */
export interface BenchConfig {
  workers: number
  s1: { rounds: number; clients: number; events: number; size: number; chunk: number }
  s2: { rounds: number; clients: number; rate: number; duration: number; size: number }
  s3: { rounds: number; connections: number; concurrency: number }
  s4: {
    rounds: number
    clients: number
    stalled: number
    events: number
    size: number
    chunk: number
    /** Chunks in flight ahead of the slowest healthy client. */
    window: number
    maxBufferedBytes: number
  }
  s5: { rounds: number; clients: number; behind: number; size: number }
  redis: {
    rounds: number
    clients: number
    rate: number
    duration: number
    size: number
    replayClients: number
    behind: number
  }
}

export type Mode = 'quick' | 'full' | 'smoke'

const full: BenchConfig = {
  workers: 2,
  s1: { rounds: 5, clients: 1000, events: 2000, size: 200, chunk: 100 },
  s2: { rounds: 3, clients: 1000, rate: 20, duration: 10_000, size: 200 },
  s3: { rounds: 3, connections: 10_000, concurrency: 256 },
  // Peers deliver ~100–200k events/s and S4 runs twice per contender (with and without stalled
  // clients): 300 clients × 8,000 events keeps the full run under ~25 minutes.
  s4: {
    rounds: 3,
    clients: 300,
    stalled: 10,
    events: 8000,
    size: 1024,
    chunk: 100,
    window: 4,
    maxBufferedBytes: 512 * 1024,
  },
  s5: { rounds: 5, clients: 1000, behind: 100, size: 200 },
  redis: {
    rounds: 3,
    clients: 1000,
    rate: 20,
    duration: 10_000,
    size: 200,
    replayClients: 1000,
    behind: 100,
  },
}

/** A few minutes on a 2-core machine: smaller bursts and fewer rounds. */
const quick: BenchConfig = {
  ...full,
  s1: { ...full.s1, rounds: 3, events: 1000 },
  s2: { ...full.s2, rounds: 2, duration: 3000 },
  s3: { ...full.s3, rounds: 1, connections: 5000 },
  s4: { ...full.s4, rounds: 1, clients: 200, events: 6000 },
  s5: { ...full.s5, rounds: 2 },
  redis: { ...full.redis, rounds: 1, duration: 3000 },
}

/** Enough to see that every contender serves, delivers and gets parsed; times nothing. */
const smoke: BenchConfig = {
  workers: 1,
  s1: { rounds: 1, clients: 8, events: 200, size: 200, chunk: 50 },
  s2: { rounds: 1, clients: 8, rate: 50, duration: 400, size: 200 },
  s3: { rounds: 1, connections: 50, concurrency: 50 },
  s4: {
    rounds: 1,
    clients: 8,
    stalled: 2,
    events: 400,
    size: 1024,
    chunk: 50,
    window: 2,
    maxBufferedBytes: 512 * 1024,
  },
  s5: { rounds: 1, clients: 8, behind: 20, size: 200 },
  redis: {
    rounds: 1,
    clients: 8,
    rate: 50,
    duration: 400,
    size: 200,
    replayClients: 8,
    behind: 10,
  },
}

export function configFor(mode: Mode): BenchConfig {
  return structuredClone(mode === 'full' ? full : mode === 'smoke' ? smoke : quick)
}

/** Applies `--s1.clients=500`-style overrides; throws on an unknown name. */
export function applyOverride(config: BenchConfig, key: string, value: string): void {
  const number = Number(value)
  if (!Number.isFinite(number)) throw new Error(`--${key}: expected a number, got "${value}"`)
  const [group, name] = key.split('.')
  if (group === 'workers' && name === undefined) {
    config.workers = number
    return
  }
  const section = (config as unknown as Record<string, Record<string, number>>)[group ?? '']
  if (section === undefined || name === undefined || !(name in section)) {
    throw new Error(`unknown option --${key}`)
  }
  section[name] = number
}
