import { randomBytes } from 'node:crypto'
import { createLogLine, type LogLine } from './logLine.js'

/** Makes line `seq` of `source`, written at `at` (epoch ms). */
export type CreateLogLine = (source: string, seq: number, at: number) => LogLine

/** Lines a page shows when it is first rendered. */
export const RECENT_LINES = 100

/**
 * The demo's server log, in memory: a source name, the next sequence number and the last
 * {@link RECENT_LINES} lines (what a freshly rendered page shows). The lines themselves travel
 * through the broker; replaying them after a reconnect is the broker's history, not this store's.
 */
export class LogFeed {
  /** Names this log, e.g. one process: a page checks sequence numbers per source. */
  readonly source: string
  readonly #recent: LogLine[] = []
  #next = 1

  constructor(source: string = randomBytes(3).toString('hex')) {
    this.source = source
  }

  /** The number the next line will get. */
  get nextSeq(): number {
    return this.#next
  }

  /**
   * Writes `count` lines made by `create`, their times spread evenly from `from` to `to` (epoch
   * ms), and returns them.
   */
  write(count: number, from: number, to: number, create: CreateLogLine = createLogLine): LogLine[] {
    const lines: LogLine[] = []
    const step = count > 1 ? (to - from) / (count - 1) : 0
    for (let i = 0; i < count; i++) {
      lines.push(create(this.source, this.#next++, Math.round(from + i * step)))
    }
    const keep = lines.slice(-RECENT_LINES)
    this.#recent.splice(0, Math.max(0, this.#recent.length + keep.length - RECENT_LINES))
    this.#recent.push(...keep)
    return lines
  }

  /** The last lines written, oldest first. */
  recent(): readonly LogLine[] {
    return this.#recent
  }
}
