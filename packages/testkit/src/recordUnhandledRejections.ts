import { afterAll, beforeAll } from 'vitest'

/**
 * Records every promise rejection nobody handled while the enclosing file (or `describe`) runs, and
 * returns the list, for a test to assert that it stays empty.
 */
export function recordUnhandledRejections(): unknown[] {
  const unhandled: unknown[] = []
  const record = (reason: unknown) => unhandled.push(reason)
  beforeAll(() => {
    process.on('unhandledRejection', record)
  })
  afterAll(() => {
    process.off('unhandledRejection', record)
  })
  return unhandled
}
