import { afterEach } from 'vitest'

/** What a test opened and must close: push a function per thing, newest last. */
export type Cleanups = Array<() => unknown>

/** Runs and empties `cleanups`, newest first (clients before the server they talk to). */
export async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
}

/**
 * Registers an `afterEach` (in the enclosing `describe`, or the file) that runs the cleanups a test
 * pushed, newest first, and returns the list to push to.
 *
 * @example
 * const cleanups = useCleanups()
 * test('...', async () => {
 *   const server = await listen(handler)
 *   cleanups.push(() => server.close())
 * })
 */
export function useCleanups(): Cleanups {
  const cleanups: Cleanups = []
  afterEach(() => runCleanups(cleanups))
  return cleanups
}
