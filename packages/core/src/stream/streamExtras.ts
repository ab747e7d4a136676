import type { KeyedSlots } from '../conflation/keyedSlots.js'
import type { ReplayPages } from './replayPages.js'

/**
 * The part of a stream's state that most streams never use: they are not piped, replayed to,
 * conflated, dropped from or stalled, and nobody asks for their `signal` or `closed`. A stream
 * creates this the first time it needs any of it, so an idle stream stays small.
 */
export class StreamExtras {
  /** Behind `stream.signal`; aborted when the stream closes. */
  controller: AbortController | undefined = undefined
  /** Behind `stream.closed`, while the stream is open. */
  closed: Promise<void> | undefined = undefined
  resolveClosed: (() => void) | undefined = undefined
  /** The iterator `stream.pipe()` reads, returned when the stream closes. */
  source: AsyncIterator<unknown> | undefined = undefined
  /** Resumes a `pipe()` that waits for the client to read again. */
  wakeSource: (() => void) | undefined = undefined
  /** The replay still being written; it goes out before the stream's queue. */
  replay: ReplayPages | undefined = undefined
  /** Where pending frames of keyed events sit in the queue, while the client is behind. */
  keyed: KeyedSlots | undefined = undefined
  /** Frames discarded under the `drop` overflow policy. */
  dropped = 0
  /** Keep-alive sweeps the socket has stayed blocked for, with no `'drain'`. */
  stalledTicks = 0
}
