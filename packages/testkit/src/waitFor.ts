/** How long {@link waitFor} polls, and how often. */
export interface WaitForOptions {
  /** @default 10_000 */
  timeoutMs?: number
  /** @default 5 */
  intervalMs?: number
}

/**
 * Polls `predicate` until it holds, for at most `timeoutMs`; throws `timed out waiting for <what>`
 * if it never does. For conditions nothing announces (a counter, a socket's state): where an event
 * or a promise says it, await that instead. A predicate that throws ends the wait with its error.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what = 'the condition to hold',
  { timeoutMs = 10_000, intervalMs = 5 }: WaitForOptions = {},
): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += intervalMs) {
    if (await predicate()) return
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  if (await predicate()) return
  throw new Error(`timed out waiting for ${what}`)
}
