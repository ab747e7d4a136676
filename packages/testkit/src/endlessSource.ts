/** An async source that never ends by itself, for tests of what stops it. */
export interface EndlessSource {
  /** Yields `'1'`, `'2'`, … one per turn of the event loop, for as long as it is read. */
  readonly source: AsyncGenerator<string>
  /** How many values it has yielded so far. */
  produced(): number
  /** Resolves once the generator's `finally` has run: it was told to stop (`return()`). */
  readonly stopped: Promise<void>
}

/**
 * A producer for `stream.pipe()`, `reply.sse()` or `res.sse()` that only stops when the consumer
 * stops it, as it must when the client leaves.
 */
export function endlessSource(): EndlessSource {
  let produced = 0
  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  async function* generate(): AsyncGenerator<string> {
    try {
      for (;;) {
        yield String(++produced)
        await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      stop()
    }
  }
  return { source: generate(), produced: () => produced, stopped }
}
