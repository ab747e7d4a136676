// The real timers, taken when this module loads: a test that fakes timers afterwards still gets a
// timeout from the kit instead of a hang.
const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis

/** A wait's result, boxed so that `undefined` can be one. */
export interface Settled<T> {
  value: T
}

interface Pending {
  /** Tries to settle: `true` once settled (resolved or rejected). */
  check(over: boolean): boolean
  /** Rejects with `error`. */
  fail(error: Error): void
}

/** How a wait settles; see {@link StreamWaits.add}. */
export interface WaitSpec<T> {
  /** What the test waits for, for messages: `take(3)`. */
  what: string
  /** The result if the wait is satisfied now (it may consume what it returns), else `undefined`. */
  attempt(): Settled<T> | undefined
  /** Called once the stream is over and `attempt` failed: a result, or throws. */
  whenOver(): T
}

/**
 * The waits pending on one stream, each bounded by the stream's timeout. They are re-checked, in
 * the order they began, whenever the stream receives something or ends.
 */
export class StreamWaits {
  readonly #timeout: number
  readonly #onTimeout: (what: string) => Error
  readonly #pending = new Set<Pending>()
  /** What every wait rejects with, once the stream has failed. */
  #failure: Error | undefined

  /** `onTimeout` builds the error a timed-out wait rejects with, and may close the stream. */
  constructor(timeout: number, onTimeout: (what: string) => Error) {
    this.#timeout = timeout
    this.#onTimeout = onTimeout
  }

  /** Resolves with the wait's result, now or when it comes; rejects on timeout or `whenOver`. */
  add<T>(spec: WaitSpec<T>, over: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#failure !== undefined) return reject(this.#failure)
      let timer: ReturnType<typeof realSetTimeout> | undefined
      const pending: Pending = {
        check: (isOver) => {
          let settled: Settled<T> | undefined
          try {
            settled = spec.attempt() ?? (isOver ? { value: spec.whenOver() } : undefined)
          } catch (error) {
            this.#pending.delete(pending)
            realClearTimeout(timer)
            reject(error)
            return true
          }
          if (settled === undefined) return false
          this.#pending.delete(pending)
          realClearTimeout(timer)
          resolve(settled.value)
          return true
        },
        fail: (error) => {
          this.#pending.delete(pending)
          realClearTimeout(timer)
          reject(error)
        },
      }
      if (pending.check(over)) return
      this.#pending.add(pending)
      timer = realSetTimeout(() => {
        if (!this.#pending.delete(pending)) return
        reject(this.#onTimeout(spec.what))
      }, this.#timeout)
    })
  }

  /** Rejects every pending wait with `error`, and every wait added from now on. */
  fail(error: Error): void {
    this.#failure ??= error
    for (const pending of [...this.#pending]) pending.fail(this.#failure)
  }

  /** Re-checks every pending wait; `over` once the stream will receive nothing more. */
  check(over: boolean): void {
    for (const pending of [...this.#pending]) pending.check(over)
  }
}
