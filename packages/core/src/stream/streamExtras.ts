/**
 * The part of a stream's state that most streams never use: they are not piped or dropped from,
 * and nobody asks for their `signal` or `closed`. A stream creates this the first time it needs any
 * of it, so an idle stream stays small.
 */
export class StreamExtras {
  /** Frames discarded under the `drop` overflow policy. */
  dropped = 0
  /** Behind `stream.signal`; aborted when the stream closes. */
  #controller: AbortController | undefined = undefined
  /** Behind `stream.closed`, while the stream is open. */
  #closed: Promise<void> | undefined = undefined
  #resolveClosed: (() => void) | undefined = undefined
  /** The iterator `stream.pipe()` reads, returned when the stream closes. */
  #source: AsyncIterator<unknown> | undefined = undefined
  /** Resumes a `pipe()` that waits for the client to read again. */
  #wakeSource: (() => void) | undefined = undefined

  /** The stream's `signal`; aborted already if the stream `isClosed`. */
  signal(isClosed: boolean): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (isClosed) this.#controller.abort()
    }
    return this.#controller.signal
  }

  /** The stream's `closed` promise; resolved already if the stream `isClosed`. */
  closed(isClosed: boolean): Promise<void> {
    if (this.#closed === undefined) {
      if (isClosed) this.#closed = Promise.resolve()
      else this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve))
    }
    return this.#closed
  }

  /** Registers the iterator a `pipe()` reads (`undefined` once it is done with it). */
  attachSource(iterator: AsyncIterator<unknown> | undefined): void {
    this.#source = iterator
  }

  /** Resolves once {@link wake} is called: the stream can take more, or has closed. */
  waitForRoom(): Promise<void> {
    return new Promise<void>((resolve) => (this.#wakeSource = resolve))
  }

  /** Resumes a `pipe()` waiting for room. */
  wake(): void {
    const wake = this.#wakeSource
    if (wake === undefined) return
    this.#wakeSource = undefined
    wake()
  }

  /** The stream closed: aborts its signal, resolves `closed`, and stops a piped source. */
  release(): void {
    this.#controller?.abort()
    this.#resolveClosed?.()
    this.wake()
    const source = this.#source
    if (source !== undefined) {
      this.#source = undefined
      source.return?.()?.catch(() => {})
    }
  }
}
