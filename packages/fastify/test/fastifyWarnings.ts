import { afterAll, afterEach, beforeAll, expect } from 'vitest'

/** Fastify's own warning codes: deprecations (`FSTDEP…`), warnings (`FSTWRN…`), security (`FSTSEC…`). */
const FASTIFY_CODE = /^FST[A-Z]+\d+$/

/** What {@link failOnFastifyWarnings} saw, for a test that provokes a warning on purpose. */
export interface FastifyWarnings {
  /** The codes seen since the last call (or the test's start), once Node has emitted them. */
  take(): Promise<string[]>
}

/** Node emits a warning on the next tick after `process.emitWarning()`. */
const emitted = () => new Promise((resolve) => setImmediate(resolve))

/**
 * Fails every test of the file during which Fastify emitted a warning of its own (a deprecated
 * option, an API Fastify 6 removes): the plugin must work on the newest Fastify 5 without one. Call
 * it first in a test file, before `useCleanups()`, so that warnings from closing the app count too.
 */
export function failOnFastifyWarnings(): FastifyWarnings {
  const seen: string[] = []
  const listener = (warning: Error & { code?: unknown }) => {
    if (typeof warning.code === 'string' && FASTIFY_CODE.test(warning.code)) {
      seen.push(`${warning.code}: ${warning.message}`)
    }
  }
  beforeAll(() => {
    process.on('warning', listener)
  })
  afterEach(async () => {
    await emitted()
    expect(seen.splice(0), 'Fastify warned during this test').toEqual([])
  })
  afterAll(async () => {
    await emitted()
    process.off('warning', listener)
    expect(seen.splice(0), 'Fastify warned after the last test').toEqual([])
  })
  return {
    async take() {
      await emitted()
      return seen.splice(0).map((line) => line.slice(0, line.indexOf(':')))
    },
  }
}
