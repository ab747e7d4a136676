import { SSEError } from '@sse/core'
import type { Redis } from 'ioredis'
import {
  backoff,
  foreignEntry,
  readFailed,
  sleep,
  trimmedBeforeRead,
  whenReady,
} from './readerWaits.js'
import { parseEntry, type RawEntry, type StreamEntry } from './streamEntry.js'
import { compareStreamIds, STREAM_START } from './streamId.js'
import type { TransportCounters } from './transportCounters.js'

/** Entries read per `XREAD`. */
const BATCH = 1000
/** How long one `XREAD` blocks on an idle stream, in ms. */
const BLOCK_MS = 5000
/** Longest a replay waits for this reader to reach a client's (newer) last event id. */
const CATCH_UP_MS = 5000

/** Where the reader hands what it reads. */
export interface StreamReaderSink {
  deliver(delivery: StreamEntry['delivery']): void
  error(error: SSEError): void
}

interface Waiter {
  readonly id: string
  readonly resolve: () => void
}

/**
 * Follows the shared stream on a dedicated connection (`XREAD BLOCK` from the last id it read)
 * and hands every entry to the broker, in id order, exactly once. Because it reads from a position
 * rather than subscribing, a dropped connection loses nothing: after reconnecting it goes on from
 * where it was. After each reconnect it checks that its position is still in the stream, and
 * reports it when Redis lost data meanwhile.
 */
export class StreamReader {
  readonly #redis: Redis
  readonly #key: string
  readonly #sink: StreamReaderSink
  readonly #counters: TransportCounters
  readonly #abort = new AbortController()
  readonly #waiters = new Set<Waiter>()
  #position: string | undefined
  /** Publish counter of the last entry delivered, to notice entries trimmed before we read them. */
  #lastCount: number | undefined
  /** Bumped on every `ready` of the connection: a position check is due after each. */
  #epoch = 0
  #checkedEpoch = 0
  #healthy = true
  #reportedForeign = false
  #loop: Promise<void> | undefined
  #initialized!: { resolve: () => void; reject: (error: unknown) => void }
  /** Settles once the reader knows where the stream ends; rejects on the first failure before that. */
  readonly initialized: Promise<void>

  constructor(redis: Redis, key: string, sink: StreamReaderSink, counters: TransportCounters) {
    this.#redis = redis
    this.#key = key
    this.#sink = sink
    this.#counters = counters
    this.initialized = new Promise((resolve, reject) => {
      this.#initialized = { resolve, reject }
    })
    this.initialized.catch(() => {})
    redis.on('ready', () => {
      this.#epoch++
    })
  }

  /** The id of the last entry read, or `undefined` until the reader has found the end of the stream. */
  get position(): string | undefined {
    return this.#position
  }

  /** Publish counter of the last entry read (when it was one of ours, since Redis last lost data). */
  get count(): number | undefined {
    return this.#lastCount
  }

  /** Whether the last read from Redis succeeded. */
  get healthy(): boolean {
    return this.#healthy && this.#position !== undefined
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  /** Resolves once the reader has read `id` (or after a few seconds, or on close). */
  reached(id: string): Promise<void> {
    const position = this.#position
    if (position !== undefined && compareStreamIds(position, id) >= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), CATCH_UP_MS)
      const waiter: Waiter = { id, resolve: () => done() }
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(waiter)
        resolve()
      }
      this.#waiters.add(waiter)
    })
  }

  /** Stops the loop; the caller disconnects the connection, which ends a pending `XREAD`. */
  async close(): Promise<void> {
    this.#abort.abort()
    this.#healthy = false
    for (const waiter of [...this.#waiters]) waiter.resolve()
    this.#initialized.reject(new SSEError('TRANSPORT_UNAVAILABLE', '@sse/redis: closed'))
    await this.#loop
  }

  async #run(): Promise<void> {
    let failures = 0
    const signal = this.#abort.signal
    while (!signal.aborted) {
      try {
        await whenReady(this.#redis, signal)
        if (signal.aborted) break
        if (this.#position === undefined || this.#checkedEpoch !== this.#epoch) {
          if (this.#position === undefined) await this.#initialize()
          else await this.#check()
          // Back after a reconnect: following the stream again.
          this.#healthy = true
        }
        const reply = await this.#redis.xreadBuffer(
          'COUNT',
          BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.#key,
          this.#position!,
        )
        this.#healthy = true
        failures = 0
        if (reply !== null && reply[0] !== undefined) this.#consume(reply[0][1])
      } catch (cause) {
        if (signal.aborted) break
        this.#failed(cause)
        if (this.#redis.status === 'end') {
          // Only a retryStrategy that gave up ends a connection we did not close: stop for good.
          this.#sink.error(
            new SSEError(
              'TRANSPORT_UNAVAILABLE',
              '@sse/redis: the Redis connection gave up reconnecting (retryStrategy); this instance no longer receives events',
            ),
          )
          break
        }
        // A connection problem waits for `ready`; an error on a live connection must not spin.
        if (this.#redis.status === 'ready') {
          failures++
          await sleep(backoff(failures), signal)
        }
      }
    }
  }

  async #initialize(): Promise<void> {
    this.#checkedEpoch = this.#epoch
    const [last] = (await this.#redis.xrevrangeBuffer(
      this.#key,
      '+',
      '-',
      'COUNT',
      1,
    )) as RawEntry[]
    if (last === undefined) {
      this.#position = STREAM_START
    } else {
      const id = last[0].toString('latin1')
      this.#position = id
      this.#lastCount = parseEntry(id, last[1])?.count
    }
    this.#initialized.resolve()
  }

  /**
   * After a reconnect: is the last entry we read still there? If not, Redis lost data (a restart
   * without persistence, or from an older snapshot) or trimmed past us. Either way the reader goes
   * on after its position: new entries get later ids (the publish script never hands out an id
   * below the publishing reader's position), and entries before it were read already.
   */
  async #check(): Promise<void> {
    this.#checkedEpoch = this.#epoch
    const position = this.#position!
    if (position === STREAM_START) return
    if ((await this.#redis.xrangeBuffer(this.#key, position, position)).length > 0) return
    this.#counters.resets++
    // The publish counter may have started over too: no gap can be measured across this point.
    this.#lastCount = undefined
    this.#sink.error(
      new SSEError(
        'TRANSPORT_ERROR',
        `@sse/redis: the stream "${this.#key}" no longer holds ${position}, the last event this instance read (Redis lost data in a restart, or trimmed the stream past it). Events published before Redis came back may be lost; later ones are delivered.`,
      ),
    )
  }

  #consume(entries: readonly RawEntry[]): void {
    for (const [rawId, fields] of entries) {
      const id = rawId.toString('latin1')
      this.#position = id
      const entry = parseEntry(id, fields)
      if (entry === undefined) {
        this.#skip(id)
        continue
      }
      this.#counted(entry.count)
      this.#counters.delivered++
      this.#sink.deliver(entry.delivery)
    }
    if (this.#waiters.size > 0) {
      for (const waiter of [...this.#waiters]) {
        if (compareStreamIds(this.#position!, waiter.id) >= 0) waiter.resolve()
      }
    }
  }

  #counted(count: number): void {
    const last = this.#lastCount
    this.#lastCount = count
    // A smaller count means the counter started over (Redis lost its data): #check reports that.
    if (last === undefined || count <= last + 1) return
    const missed = count - last - 1
    this.#counters.missed += missed
    this.#sink.error(
      trimmedBeforeRead(
        missed,
        this.#key,
        'raise historySize above the number of events published while a reader lags',
      ),
    )
  }

  #skip(id: string): void {
    this.#counters.skipped++
    if (this.#reportedForeign) return
    this.#reportedForeign = true
    this.#sink.error(foreignEntry(id, this.#key))
  }

  #failed(cause: unknown): void {
    if (this.#position === undefined) this.#initialized.reject(cause)
    if (!this.#healthy) return
    this.#healthy = false
    this.#sink.error(
      readFailed(
        this.#redis,
        cause,
        `the stream "${this.#key}"`,
        'Publishing fails with TRANSPORT_UNAVAILABLE meanwhile, and subscribers catch up from the stream once it is back',
      ),
    )
  }
}
