import { cpus, loadavg, totalmem } from 'node:os'
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'

/** One reading of the server process. */
export interface SystemSample {
  /** Sequence number, so a page can tell readings apart. */
  seq: number
  at: number
  /** Process CPU time over the last interval, in % of one core (can pass 100 with worker threads). */
  cpu: number
  rss: number
  heapUsed: number
  heapTotal: number
  /** Event-loop delay over the last interval, in ms. */
  loopMean: number
  loopP99: number
  /** SSE streams open on this instance. */
  streams: number
  /** Frames the broker has handed to sockets since it started. */
  delivered: number
  load1: number
  cores: number
  totalMemory: number
}

const NS_PER_MS = 1e6
/** Histogram resolution in ms. Node's readings include it, so it is subtracted from them. */
const RESOLUTION_MS = 10

/**
 * Samples this process: CPU from `process.cpuUsage()`, memory from `process.memoryUsage()`,
 * event-loop delay from `perf_hooks.monitorEventLoopDelay()`, load and RAM from `node:os`.
 * Keeps the last `size` samples for the sparklines.
 */
export class SystemMonitor {
  readonly #size: number
  readonly #samples: SystemSample[] = []
  readonly #loop: IntervalHistogram
  #cpu = process.cpuUsage()
  #wall = process.hrtime.bigint()
  #seq = 0

  constructor(size = 60) {
    this.#size = size
    this.#loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    this.#loop.enable()
  }

  /** Samples, oldest first. */
  get samples(): readonly SystemSample[] {
    return this.#samples
  }

  /** The newest sample, taking one if there is none yet. */
  latest(counters: { streams: number; delivered: number }): SystemSample {
    return this.#samples.at(-1) ?? this.sample(counters)
  }

  /** Takes a sample (the interval is the time since the previous one). */
  sample(counters: { streams: number; delivered: number }): SystemSample {
    const wall = process.hrtime.bigint()
    const elapsedMicros = Number(wall - this.#wall) / 1000
    const cpu = process.cpuUsage(this.#cpu)
    this.#cpu = process.cpuUsage()
    this.#wall = wall
    const memory = process.memoryUsage()
    const loopMean = this.#loop.mean / NS_PER_MS - RESOLUTION_MS
    const loopP99 = this.#loop.percentile(99) / NS_PER_MS - RESOLUTION_MS
    this.#loop.reset()
    const sample: SystemSample = {
      seq: ++this.#seq,
      at: Date.now(),
      cpu: elapsedMicros > 0 ? ((cpu.user + cpu.system) / elapsedMicros) * 100 : 0,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      loopMean: Number.isFinite(loopMean) ? Math.max(loopMean, 0) : 0,
      loopP99: Number.isFinite(loopP99) ? Math.max(loopP99, 0) : 0,
      streams: counters.streams,
      delivered: counters.delivered,
      load1: loadavg()[0] ?? 0,
      cores: cpus().length,
      totalMemory: totalmem(),
    }
    this.#samples.push(sample)
    if (this.#samples.length > this.#size) this.#samples.shift()
    return sample
  }

  /** Stops the event-loop histogram. */
  stop(): void {
    this.#loop.disable()
  }
}
