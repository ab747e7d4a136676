import { spawn } from 'node:child_process'
import { once } from 'node:events'

/**
 * A `node` process running a server, with its output kept for failure messages. Knows whether it
 * ended on its own (a crash, for a server) or because `stop()` ended it.
 */
export class ServerProcess {
  #child
  #output = ''
  /** @type {string | undefined} */
  #exit
  #stopping = false

  /**
   * @param {string} script
   * @param {{ cwd: string, env: NodeJS.ProcessEnv }} options
   */
  constructor(script, options) {
    this.#child = spawn(process.execPath, [script], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (/** @type {string} */ chunk) => {
      // The last 20 kB are enough to tell why it failed.
      this.#output = (this.#output + chunk).slice(-20_000)
    }
    this.#child.stdout.setEncoding('utf8').on('data', keep)
    this.#child.stderr.setEncoding('utf8').on('data', keep)
    this.#child.on('error', (error) => {
      this.#exit ??= `could not start: ${error.message}`
    })
    this.#child.on('exit', (code, signal) => {
      this.#exit ??= signal ? `ended by ${signal}` : `exited with code ${code}`
    })
  }

  /** Why the process ended on its own, or `undefined` while it runs (or after `stop()`). */
  get crashed() {
    return this.#stopping ? undefined : this.#exit
  }

  /** Everything it printed (the tail). */
  get output() {
    return this.#output
  }

  /**
   * Ends the process: SIGTERM, then SIGKILL if it is still there after 5 s.
   * @returns {Promise<void>}
   */
  async stop() {
    if (this.#exit !== undefined) return
    this.#stopping = true
    const exited = once(this.#child, 'exit')
    this.#child.kill('SIGTERM')
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}
