import { Worker } from 'node:worker_threads'
import { LatencyHistogram } from './latencyHistogram.js'
import type {
  ConnectResult,
  LoadCommand,
  LoadReply,
  LoadReport,
  StalledState,
} from './loadProtocol.js'

/** Sums of every thread's {@link LoadReport}. */
export interface LoadTotals extends Omit<LoadReport, 'histogram'> {
  histogram: LatencyHistogram
}

class LoadThread {
  readonly #worker: Worker
  readonly #pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void }
  >()
  #nextId = 0

  constructor(file: URL) {
    this.#worker = new Worker(file)
    this.#worker.on('message', (reply: LoadReply) => {
      const pending = this.#pending.get(reply.id)
      if (pending === undefined) return
      this.#pending.delete(reply.id)
      if (reply.ok) pending.resolve(reply.value)
      else pending.reject(new Error(reply.error))
    })
    this.#worker.on('error', (error) => {
      for (const pending of this.#pending.values()) pending.reject(error)
      this.#pending.clear()
    })
  }

  call<T>(command: LoadCommand): Promise<T> {
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.#worker.postMessage({ id, command })
    })
  }

  terminate(): Promise<number> {
    return this.#worker.terminate()
  }
}

/** Splits `count` as evenly as possible over `parts`. */
export function split(count: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(count / parts) + (i < count % parts ? 1 : 0),
  )
}

/**
 * The load generator as the orchestrator sees it: a few worker threads that share the
 * connections, so that parsing on the client side is not the bottleneck.
 */
export class LoadGenerator {
  readonly #threads: LoadThread[]

  constructor(threads: number) {
    const file = new URL('./loadWorker.js', import.meta.url)
    this.#threads = Array.from({ length: Math.max(1, threads) }, () => new LoadThread(file))
  }

  get threads(): number {
    return this.#threads.length
  }

  /** Opens `count` connections spread over the threads; resolves when all have answered. */
  async connect(options: {
    port: number
    path: string
    count: number
    concurrency?: number
    headers?: Record<string, string>
    lastEventIds?: readonly string[]
    trackIds?: boolean
  }): Promise<ConnectResult> {
    const shares = split(options.count, this.#threads.length)
    const perThread = Math.max(1, Math.ceil((options.concurrency ?? 128) / this.#threads.length))
    let offset = 0
    const results = await Promise.all(
      this.#threads.map((thread, i) => {
        const count = shares[i]!
        const ids = options.lastEventIds?.slice(offset, offset + count)
        offset += count
        return thread.call<ConnectResult>({
          op: 'connect',
          port: options.port,
          path: options.path,
          count,
          concurrency: perThread,
          ...(options.headers !== undefined && { headers: options.headers }),
          ...(ids !== undefined && { lastEventIds: ids }),
          ...(options.trackIds !== undefined && { trackIds: options.trackIds }),
        })
      }),
    )
    const total: ConnectResult = { opened: 0, failed: 0, statuses: {} }
    for (const result of results) {
      total.opened += result.opened
      total.failed += result.failed
      for (const [status, n] of Object.entries(result.statuses)) {
        total.statuses[status] = (total.statuses[status] ?? 0) + n
      }
    }
    return total
  }

  /** `true` once every healthy connection has `events` events since the last reset. */
  expectEvents(events: number, timeout: number): Promise<boolean> {
    return this.#expect('events', events, timeout)
  }

  /** `true` once every healthy connection has received sequence number `seq` (or later). */
  expectSeq(seq: number, timeout: number): Promise<boolean> {
    return this.#expect('seq', seq, timeout)
  }

  async #expect(kind: 'events' | 'seq', value: number, timeout: number): Promise<boolean> {
    const reached = await Promise.all(
      this.#threads.map((thread) => thread.call<boolean>({ op: 'expect', kind, value, timeout })),
    )
    return reached.every(Boolean)
  }

  async reset(): Promise<void> {
    await this.#all({ op: 'reset' })
  }

  /** Stops reading on `count` connections, spread over the threads. */
  async pause(count: number): Promise<number> {
    const shares = split(count, this.#threads.length)
    const paused = await Promise.all(
      this.#threads.map((thread, i) => thread.call<number>({ op: 'pause', count: shares[i]! })),
    )
    return paused.reduce((a, b) => a + b, 0)
  }

  async resume(): Promise<void> {
    await this.#all({ op: 'resume' })
  }

  async stalledState(): Promise<StalledState[]> {
    const states = await Promise.all(
      this.#threads.map((thread) => thread.call<StalledState[]>({ op: 'stalledState' })),
    )
    return states.flat()
  }

  async idOf(seq: number): Promise<string | undefined> {
    for (const thread of this.#threads) {
      const id = await thread.call<string | null>({ op: 'idOf', seq })
      if (id !== null) return id
    }
    return undefined
  }

  async destroyStalled(): Promise<void> {
    await this.#all({ op: 'destroyStalled' })
  }

  async report(): Promise<LoadTotals> {
    const reports = await Promise.all(
      this.#threads.map((thread) => thread.call<LoadReport>({ op: 'report' })),
    )
    const histogram = new LatencyHistogram()
    const totals: LoadTotals = {
      connections: 0,
      open: 0,
      paused: 0,
      closed: 0,
      cut: 0,
      received: 0,
      gaps: 0,
      reorders: 0,
      other: 0,
      lastReceivedAt: 0,
      histogram,
    }
    for (const report of reports) {
      totals.connections += report.connections
      totals.open += report.open
      totals.paused += report.paused
      totals.closed += report.closed
      totals.cut += report.cut
      totals.received += report.received
      totals.gaps += report.gaps
      totals.reorders += report.reorders
      totals.other += report.other
      totals.lastReceivedAt = Math.max(totals.lastReceivedAt, report.lastReceivedAt)
      histogram.merge(report.histogram)
    }
    return totals
  }

  async closeAll(): Promise<void> {
    await this.#all({ op: 'closeAll' })
  }

  async terminate(): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.terminate()))
  }

  async #all(command: LoadCommand): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.call(command)))
  }
}
