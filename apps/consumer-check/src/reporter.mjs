/**
 * Prints one line per check and per phase, and remembers the failures so the run can end with a
 * summary line (`consumer-check: N passed, M failed`) and a non-zero exit code.
 */
export class Reporter {
  #passed = 0
  /** @type {string[]} */
  #failures = []
  /** @type {Array<{ name: string, ms: number }>} */
  #phases = []

  /**
   * Records one check.
   * @param {string} label what was checked, for example `import @sse/core`
   * @param {boolean} ok whether it held
   * @param {string} [detail] why it failed (printed indented under the line)
   */
  check(label, ok, detail) {
    if (ok) {
      this.#passed += 1
      console.log(`  ok    ${label}`)
      return
    }
    this.#failures.push(label)
    console.log(`  FAIL  ${label}`)
    if (detail) console.log(indent(detail))
  }

  /**
   * Prints a line that is neither a pass nor a failure.
   * @param {string} text
   */
  note(text) {
    console.log(`  note  ${text}`)
  }

  /**
   * Runs one phase, printing its name before and its duration after (also when it throws).
   * @template T
   * @param {string} name
   * @param {() => Promise<T>} run
   * @returns {Promise<T>}
   */
  async phase(name, run) {
    console.log(`\n== ${name}`)
    const started = performance.now()
    try {
      return await run()
    } finally {
      const ms = Math.round(performance.now() - started)
      this.#phases.push({ name, ms })
      console.log(`   (${name}: ${formatMs(ms)})`)
    }
  }

  /** Number of failed checks so far. */
  get failed() {
    return this.#failures.length
  }

  /** Prints the phase timings, the failed checks and the closing count line. */
  summary() {
    console.log('\n== timings')
    for (const { name, ms } of this.#phases) console.log(`  ${formatMs(ms).padStart(8)}  ${name}`)
    if (this.#failures.length > 0) {
      console.log('\n== failed checks')
      for (const label of this.#failures) console.log(`  ${label}`)
    }
    console.log(`\nconsumer-check: ${this.#passed} passed, ${this.#failures.length} failed`)
  }
}

/**
 * @param {number} ms
 * @returns {string}
 */
export function formatMs(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

/**
 * @param {string} text
 * @returns {string}
 */
function indent(text) {
  return text
    .split('\n')
    .map((line) => `        ${line}`)
    .join('\n')
}
