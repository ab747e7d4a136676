/** How {@link publishPaced} publishes. */
export interface PacedPublishOptions {
  /** Events to publish before the final `end` event. */
  count: number
  /** Bytes of each event's data (at least 16). */
  eventBytes: number
  /** The pace, in MB/s (10^6 bytes) of event data; `Infinity` for one batch per turn, unpaced. */
  megabytesPerSecond: number
  /** Events published in one turn of the event loop, when the pace allows. @default 1 */
  perTurn?: number
  /**
   * Keep this process's event loop busy `busyMs` out of every `everyMs` while publishing, as an app
   * rendering pages does: a bounded busy-wait on one shared timer. `true` means 25 ms of every 100.
   * @default false
   */
  busy?: boolean | { everyMs: number; busyMs: number }
  /** Publishing stops after this long, whatever is left. @default 20_000 */
  maxMs?: number
}

/** What {@link publishPaced} did. */
export interface PacedPublishResult {
  /** Events published (the final `end` event not counted). */
  published: number
  /** Their data, in bytes. */
  bytes: number
  /** From the first publish to the `end` event, in ms. */
  elapsedMs: number
  /** How long the event loop was held busy, in ms. */
  busyMs: number
  /** Publishing hit `maxMs` before `count`. */
  stoppedEarly: boolean
  /** What publishes threw or rejected with. */
  errors: unknown[]
}

/**
 * The data of event `sequence`: its number, a space, and padding to `bytes` (ASCII, one line), as
 * the reader of {@link startFastReader} checks it.
 */
export function sequencedData(sequence: number, bytes: number): string {
  const head = `${sequence} `
  return head + 'x'.repeat(Math.max(0, bytes - head.length))
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/**
 * Publishes `count` events of `eventBytes` through `publish`, `perTurn` per turn of the event loop
 * (`setImmediate`) while the pace allows, sleeping 1 ms whenever it is ahead of it, then one event
 * whose data is `end <published>`. Resolves once that is published and every publish settled.
 * Nothing here loops unbounded: publishing stops at `maxMs`, and each busy spell at `busyMs`.
 * What a publish throws or rejects with is collected in `errors`, never left unhandled.
 */
export async function publishPaced(
  publish: (data: string) => unknown,
  options: PacedPublishOptions,
): Promise<PacedPublishResult> {
  const {
    count,
    eventBytes,
    megabytesPerSecond,
    perTurn = 1,
    busy = false,
    maxMs = 20_000,
  } = options
  const errors: unknown[] = []
  const settling: Array<PromiseLike<unknown>> = []
  const send = (data: string) => {
    try {
      const result = publish(data)
      if (isThenable(result)) {
        settling.push(result.then(undefined, (error: unknown) => void errors.push(error)))
      }
    } catch (error) {
      errors.push(error)
    }
  }
  const bytesPerMs = (megabytesPerSecond * 1e6) / 1000
  const spell = busy === true ? { everyMs: 100, busyMs: 25 } : busy === false ? undefined : busy
  let busyMs = 0
  const busyTimer =
    spell &&
    setInterval(() => {
      const from = performance.now()
      const until = from + spell.busyMs
      while (performance.now() < until) {}
      busyMs += performance.now() - from
    }, spell.everyMs)
  const started = performance.now()
  let published = 0
  let stoppedEarly = false
  await new Promise<void>((resolve) => {
    const turn = () => {
      const elapsed = performance.now() - started
      if (published >= count) return resolve()
      if (elapsed > maxMs) {
        stoppedEarly = true
        return resolve()
      }
      const due =
        bytesPerMs === Number.POSITIVE_INFINITY
          ? count
          : Math.min(count, Math.floor((elapsed * bytesPerMs) / eventBytes) + perTurn)
      if (due <= published) return void setTimeout(turn, 1)
      const batch = Math.min(perTurn, due - published)
      for (let i = 0; i < batch; i++) send(sequencedData(published++, eventBytes))
      setImmediate(turn)
    }
    turn()
  })
  if (busyTimer) clearInterval(busyTimer)
  send(`end ${published}`)
  const elapsedMs = performance.now() - started
  await Promise.all(settling)
  return { published, bytes: published * eventBytes, elapsedMs, busyMs, stoppedEarly, errors }
}
