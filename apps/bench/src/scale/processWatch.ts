import { readdirSync, readFileSync } from 'node:fs'

/** Resident memory of `pid` in bytes (VmRSS), or 0 when it is gone (or off Linux). */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status)
    return match === null ? 0 : Number(match[1]) * 1024
  } catch {
    return 0
  }
}

/** Whether `pid` still runs (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'latin1'))
  } catch {
    return true
  }
}

/**
 * The pid of the `redis-server` listening on `port`: its command line names the port, as
 * `--port <port>` or, once Redis has set its process title, as `<address>:<port>`.
 */
export function redisPidOn(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ')
      if (command.includes('redis-server') && new RegExp(`(:| )${port}\\b`).test(command)) {
        return Number(entry)
      }
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

/**
 * Every process of a run, by pid: samples their summed RSS (the peak of the whole run) and, at
 * the end, kills whichever is still alive.
 */
export class ProcessWatch {
  readonly pids = new Set<number>()
  peakRss = 0
  readonly #timer: NodeJS.Timeout

  constructor(intervalMs = 500) {
    this.pids.add(process.pid)
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
  }

  add(pid: number | undefined): void {
    if (pid !== undefined && pid > 0) this.pids.add(pid)
  }

  /** Sums the RSS of every watched process now; keeps the peak. */
  sample(): number {
    let total = 0
    for (const pid of this.pids) total += rssOf(pid)
    if (total > this.peakRss) this.peakRss = total
    return total
  }

  /**
   * Stops sampling, SIGKILLs every watched process but this one that still runs, and returns
   * the pids it had to kill (none when everything stopped by itself).
   */
  async killLeftovers(): Promise<number[]> {
    clearInterval(this.#timer)
    const leftovers = [...this.pids].filter((pid) => pid !== process.pid && isAlive(pid))
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && leftovers.some(isAlive); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return leftovers
  }
}
