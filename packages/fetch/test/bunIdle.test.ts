import { openStream } from '@sse/testing'
import { type Cleanups, runCleanups } from '@sse/testkit'
import { expect, type TestContext, test } from 'vitest'
import { nodeOnly, startRuntime, useServerBundles } from './runtime/startRuntime.js'

// Bun.serve ends a connection idle for `idleTimeout` (10 s by default). Both tests run at once.
const bundles = useServerBundles()
/**
 * A Bun app and a client on it, for this test alone: the two tests run at once, so the cleanups
 * hang on the test's own context.
 */
async function quietStream(context: TestContext, keepAlive: number | undefined) {
  const cleanups: Cleanups = []
  context.onTestFinished(() => runCleanups(cleanups))
  const options = keepAlive === undefined ? {} : { keepAlive }
  const { origin } = await startRuntime('bun', bundles(), cleanups, options)
  const stream = await openStream(`${origin}/events`, { timeout: 75_000 })
  cleanups.push(() => stream.close())
  return { origin, stream, opened: performance.now() }
}

test.skipIf(nodeOnly).concurrent(
  'with createSSE() defaults, a Bun stream with no events stays open for 60 s, then gets the next event',
  async (context) => {
    const { origin, stream } = await quietStream(context, undefined)
    await new Promise((resolve) => setTimeout(resolve, 60_000))
    expect(stream.state).toBe('open')
    // Comments every 5 s: 12 in 60 s, after the opening one (11 leaves one late under load).
    expect(stream.comments.length).toBeGreaterThanOrEqual(11)
    await fetch(`${origin}/publish?count=1`, { method: 'POST' })
    expect((await stream.take(1))[0]!.data).toBe('0')
  },
  90_000,
)

test.skipIf(nodeOnly).concurrent(
  'with keep-alive comments every 30 s, Bun cuts the same stream after its 10 s idle timeout',
  async (context) => {
    const { stream, opened } = await quietStream(context, 30_000)
    const state = await stream.ended()
    const after = performance.now() - opened
    expect(['cut', 'ended']).toContain(state)
    expect(after).toBeGreaterThan(9_000)
    expect(after).toBeLessThan(20_000)
  },
  90_000,
)
