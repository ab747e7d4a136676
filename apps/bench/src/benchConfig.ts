/** Every number the scenarios use; `--<scenario>.<name>=<value>` overrides one. */
/** A fan-out run: `events` of `size` bytes to `clients`, `chunk` events per event-loop turn. */
export interface FanOutConfig {
  rounds: number
  clients: number
  events: number
  size: number
  chunk: number
}

export interface BenchConfig {
  workers: number
  /** S1, isolated events: one event per event-loop turn (chunk 1). */
  s1: FanOutConfig
  /** S1b, bursts: `chunk` (100) events per event-loop turn. */
  s1b: FanOutConfig
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
  /** `processes` servers of @sse/core over @sse/redis, against one, isolated events. */
  scaleout: FanOutConfig & { processes: number }
}

export type Mode = 'quick' | 'full' | 'smoke'

const full: BenchConfig = {
  workers: 2,
  // Isolated events cost the peers and the baseline one write() and one writev per delivery
  // (10–20 µs of server CPU each in a trial round, ~3 min per round for all seven contenders):
  // three rounds of each pattern keep the full run near 30 minutes.
  s1: { rounds: 3, clients: 1000, events: 2000, size: 200, chunk: 1 },
  s1b: { rounds: 3, clients: 1000, events: 2000, size: 200, chunk: 100 },
  // A p99 over two rounds moved by ±15 % from run to run on a shared machine (Express 0.99× in one
  // full run, 1.15× in the next, same code): S2 takes five. S3 varies by a few per cent: two.
  s2: { rounds: 5, clients: 1000, rate: 20, duration: 10_000, size: 200 },
  s3: { rounds: 2, connections: 10_000, concurrency: 256 },
  // Peers deliver ~100–200k events/s and S4 runs twice per contender (with and without stalled
  // clients): 300 clients × 8,000 events keeps the full run near 30 minutes.
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
  scaleout: { rounds: 3, processes: 2, clients: 1000, events: 2000, size: 200, chunk: 1 },
}

/** A few minutes on a 2-core machine: smaller bursts and fewer rounds. */
const quick: BenchConfig = {
  ...full,
  s1: { ...full.s1, rounds: 2, events: 500 },
  s1b: { ...full.s1b, rounds: 1, events: 1000 },
  s2: { ...full.s2, rounds: 2, duration: 3000 },
  s3: { ...full.s3, rounds: 1, connections: 5000 },
  s4: { ...full.s4, rounds: 1, clients: 200, events: 6000 },
  s5: { ...full.s5, rounds: 2 },
  redis: { ...full.redis, rounds: 1, duration: 3000 },
  scaleout: { ...full.scaleout, rounds: 1, events: 1000 },
}

/** Enough to see that every contender serves, delivers and gets parsed; times nothing. */
const smoke: BenchConfig = {
  workers: 1,
  s1: { rounds: 1, clients: 8, events: 100, size: 200, chunk: 1 },
  s1b: { rounds: 1, clients: 8, events: 200, size: 200, chunk: 50 },
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
  scaleout: { rounds: 1, processes: 2, clients: 8, events: 100, size: 200, chunk: 1 },
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
  if (COUNTS.has(name) && !(Number.isInteger(number) && number >= 1)) {
    throw new Error(`--${key}: expected a positive integer, got "${value}"`)
  }
  section[name] = number
}

/** Parameters that count something: a round, a process or a chunk of zero would measure nothing. */
const COUNTS = new Set(['rounds', 'processes', 'clients', 'events', 'chunk', 'connections'])
