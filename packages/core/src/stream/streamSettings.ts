import { STREAM_DEFAULTS } from '../options/defaults.js'
import type { OverflowPolicy, SSEStreamOptions } from '../types.js'
import { FlushPass } from './flushPass.js'

/** Distinct settings remembered per `coalesceWindow`, most recent first. */
const REMEMBERED = 8

/**
 * What a stream reads from its options, with the defaults applied. Frozen and shared by every
 * stream given the same values, so each stream holds one reference instead of a copy of each.
 */
export interface StreamSettings<TStream> {
  readonly maxBuffered: number
  readonly policy: OverflowPolicy
  readonly keepAlive: number
  readonly retry: number | undefined
  /** `writePath: 'socket'`: HTTP/1.1 bodies go to the socket directly where Node allows it. */
  readonly directWrites: boolean
  /** The option's own object (a stream reads it when it opens). */
  readonly headers: SSEStreamOptions['headers']
  /** The flush pass of the stream's `coalesceWindow`, shared by every stream using that window. */
  readonly pass: FlushPass<TStream>
}

interface Window<TStream> {
  readonly pass: FlushPass<TStream>
  /** The last {@link REMEMBERED} distinct settings made for this window, most recent first. */
  readonly recent: StreamSettings<TStream>[]
}

/**
 * Hands out {@link StreamSettings}: one flush pass per distinct `coalesceWindow`, and the same
 * frozen settings for options with the same values (compared, not by object: adapters build a
 * fresh options object per stream). `headers` match only as the very same object.
 */
export class StreamSettingsCache<TStream> {
  readonly #flush: (stream: TStream) => void
  readonly #windows = new Map<number, Window<TStream>>()

  /** @param flush Writes what one stream holds (see {@link FlushPass}). */
  constructor(flush: (stream: TStream) => void) {
    this.#flush = flush
  }

  /** The settings of a stream given `options` (already checked). */
  of(options: SSEStreamOptions): StreamSettings<TStream> {
    const coalesceWindow = options.coalesceWindow ?? STREAM_DEFAULTS.coalesceWindow
    let window = this.#windows.get(coalesceWindow)
    if (window === undefined) {
      window = { pass: new FlushPass<TStream>(this.#flush, coalesceWindow), recent: [] }
      this.#windows.set(coalesceWindow, window)
    }
    const maxBuffered = options.maxBufferedBytes ?? STREAM_DEFAULTS.maxBufferedBytes
    const policy = options.onOverflow ?? STREAM_DEFAULTS.onOverflow
    const keepAlive = options.keepAlive ?? STREAM_DEFAULTS.keepAlive
    const { retry, headers } = options
    const directWrites = (options.writePath ?? STREAM_DEFAULTS.writePath) === 'socket'
    const recent = window.recent
    for (let i = 0; i < recent.length; i++) {
      const known = recent[i]!
      if (
        known.maxBuffered === maxBuffered &&
        known.policy === policy &&
        known.keepAlive === keepAlive &&
        known.retry === retry &&
        known.directWrites === directWrites &&
        known.headers === headers
      ) {
        return known
      }
    }
    const made = Object.freeze({
      maxBuffered,
      policy,
      keepAlive,
      retry,
      directWrites,
      headers,
      pass: window.pass,
    })
    if (recent.unshift(made) > REMEMBERED) recent.pop()
    return made
  }
}
