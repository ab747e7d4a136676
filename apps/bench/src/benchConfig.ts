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
  /** S2: the same load at each of `rates` (events/s); `--s2.rates=20,100` picks some. */
  s2: { rounds: number; clients: number; rates: number[]; duration: number; size: number }
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
  /**
   * S6, a single reader: about `megabytes` MiB of events of each of `sizes` bytes, published one
   * per event-loop turn, paced at `rate` MB/s, to one client reading as fast as it can; with
   * `busy`, the server's event loop is busy 25 ms in every 100 ms meanwhile.
   */
  s6: { rounds: number; sizes: number[]; megabytes: number; rate: number; busy: boolean }
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
  // Each rate is judged by the median of three rounds. At 100 and 200 events/s the plain loop and
  // the peers fall behind on 2 cores, so their rounds last as long as their queues take to drain.
  // S3 varies by a few per cent: two rounds.
  s2: { rounds: 3, clients: 1000, rates: [20, 100, 200], duration: 10_000, size: 200 },
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
  // 64 MiB per round: well past what the kernel buffers of one loopback socket hold (~2.5 MiB),
  // so the rate is the steady one; 1.6 s per contender at the pace of 40 MB/s.
  s6: { rounds: 3, sizes: [1024, 16_384], megabytes: 64, rate: 40, busy: true },
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
  s6: { ...full.s6, rounds: 1, megabytes: 32 },
  redis: { ...full.redis, rounds: 1, duration: 3000 },
  scaleout: { ...full.scaleout, rounds: 1, events: 1000 },
}

/** Enough to see that every contender serves, delivers and gets parsed; times nothing. */
const smoke: BenchConfig = {
  workers: 1,
  s1: { rounds: 1, clients: 8, events: 100, size: 200, chunk: 1 },
  s1b: { rounds: 1, clients: 8, events: 200, size: 200, chunk: 50 },
  s2: { rounds: 1, clients: 8, rates: [20, 100, 200], duration: 300, size: 200 },
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
  s6: { rounds: 1, sizes: [1024, 16_384], megabytes: 2, rate: 40, busy: true },
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

/**
 * `value` as a number; a count (see {@link COUNTS}) must be a positive integer, a rate a positive
 * number.
 */
function numberFor(key: string, name: string, value: string): number {
  const number = Number(value)
  if (value.trim() === '' || !Number.isFinite(number)) {
    throw new Error(`--${key}: expected a number, got "${value}"`)
  }
  if (name === 'rate' && !(number > 0)) {
    throw new Error(`--${key}: expected a positive rate, got "${value}"`)
  }
  if (COUNTS.has(name) && !(Number.isInteger(number) && number >= 1)) {
    throw new Error(`--${key}: expected a positive integer, got "${value}"`)
  }
  return number
}

/** `value` as a switch: `true`/`on`/`1` or `false`/`off`/`0`. */
function switchFor(key: string, value: string): boolean {
  const normalized = value.trim().toLowerCase()
  if (['true', 'on', '1'].includes(normalized)) return true
  if (['false', 'off', '0'].includes(normalized)) return false
  throw new Error(`--${key}: expected true or false, got "${value}"`)
}

/**
 * Applies `--s1.clients=500`-style overrides (`--s2.rates=20,100` for a list, `--s6.busy=false`
 * for a switch); throws on an unknown name or a value that is not a number (or a switch).
 */
export function applyOverride(config: BenchConfig, key: string, value: string): void {
  const [group, name] = key.split('.')
  if (group === 'workers' && name === undefined) {
    config.workers = numberFor(key, 'workers', value)
    return
  }
  const section = (
    config as unknown as Record<string, Record<string, number | number[] | boolean>>
  )[group ?? '']
  if (section === undefined || name === undefined || !(name in section)) {
    throw new Error(`unknown option --${key}`)
  }
  const current = section[name]
  section[name] = Array.isArray(current)
    ? value.split(',').map((item) => numberFor(key, name, item))
    : typeof current === 'boolean'
      ? switchFor(key, value)
      : numberFor(key, name, value)
}

/**
 * Parameters that count something: a round, a process or a chunk of zero would measure nothing;
 * so would a rate, an event size or a volume of zero.
 */
const COUNTS = new Set([
  'workers',
  'rounds',
  'processes',
  'clients',
  'events',
  'chunk',
  'connections',
  'rates',
  'sizes',
  'megabytes',
])
