/** What a {@link BusyLoop} spent busy-waiting. */
export interface BusySpent {
  /** Wall-clock ms inside busy-waits. */
  ms: number
  /**
   * CPU time (µs, user + system, the whole process) used meanwhile: less than `ms` when the
   * machine is busy and the spinning thread waits for a core.
   */
  cpuMicros: number
}

/**
 * Keeps this process's event loop busy for `forMs` in every `everyMs`, as an app that renders
 * pages or parses bodies keeps it: one interval timer, each tick a bounded busy-wait.
 */
export class BusyLoop {
  #timer: NodeJS.Timeout | undefined
  #spent: BusySpent = { ms: 0, cpuMicros: 0 }

  /**
   * Starts busy-waiting `forMs` on every tick of one `everyMs` timer (any earlier schedule stops).
   * `forMs` must be below `everyMs`, or the loop would never be free.
   */
  start(everyMs: number, forMs: number): void {
    if (!(everyMs > 0 && forMs > 0 && forMs < everyMs)) {
      throw new RangeError(`busy loop: expected 0 < forMs < everyMs, got ${forMs} of ${everyMs} ms`)
    }
    this.stop()
    this.#timer = setInterval(() => {
      const cpuBefore = process.cpuUsage()
      const start = performance.now()
      const end = start + forMs
      while (performance.now() < end) {
        // Spinning is the point: the loop runs nothing else meanwhile.
      }
      this.#spent.ms += performance.now() - start
      const cpu = process.cpuUsage(cpuBefore)
      this.#spent.cpuMicros += cpu.user + cpu.system
    }, everyMs)
    // A busy schedule must never keep a server process alive on its own.
    this.#timer.unref()
  }

  /** Stops the schedule (if any); what it spent since the last stop. */
  stop(): BusySpent {
    clearInterval(this.#timer)
    this.#timer = undefined
    const spent = this.#spent
    this.#spent = { ms: 0, cpuMicros: 0 }
    return spent
  }
}
