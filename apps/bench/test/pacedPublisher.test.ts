import { recordUnhandledRejections } from '@sse/testkit'
import { describe, expect, it } from 'vitest'
import { publishPaced } from '../src/pacedPublisher.js'

const unhandled = recordUnhandledRejections()

/** Holds this thread for `ms`, as a busy app would between two turns of its event loop. */
function hold(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {}
}

describe('the paced publisher of the single-reader scenario', () => {
  it('publishes every event once, each no earlier than the pace allows', async () => {
    const at: number[] = []
    const from = performance.now()
    // 1,000-byte events at 200 kB/s: one every 5 ms.
    const span = await publishPaced(() => at.push(performance.now() - from), 20, 1000, 200_000)
    expect(at).toHaveLength(20)
    for (const [i, ms] of at.entries()) expect(ms, `event ${i}`).toBeGreaterThanOrEqual(i * 5)
    expect(span.endedAt).toBeGreaterThanOrEqual(span.startedAt + 19 * 5 * 1000)
  })

  it('catches up one event per event-loop turn when far behind the pace, never in a burst', async () => {
    const turnsSeen: boolean[] = []
    let previousTurnOver = true
    const run = publishPaced(
      () => {
        turnsSeen.push(previousTurnOver)
        previousTurnOver = false
        // Queued before the publisher queues its next step: it runs first if that is a new turn.
        setImmediate(() => {
          previousTurnOver = true
        })
      },
      200,
      1024,
      1e12,
    )
    // Every event is due at once after this.
    hold(30)
    await run
    expect(turnsSeen).toHaveLength(200)
    expect(turnsSeen.every(Boolean)).toBe(true)
  })

  it('rejects when a publish throws, and publishes nothing after it', async () => {
    let calls = 0
    const run = publishPaced(
      () => {
        calls++
        if (calls === 3) throw new Error('the broker is closed')
      },
      10,
      1024,
      1e9,
    )
    await expect(run).rejects.toThrow('the broker is closed')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(calls).toBe(3)
    expect(unhandled).toEqual([])
  })

  it.each([
    [10, 1024, 0],
    [10, 1024, Number.NaN],
    [10, 1024, -1e6],
    [10, 0, 1e6],
    [0, 1024, 1e6],
    [1.5, 1024, 1e6],
  ])(
    'refuses %d events of %d bytes at %d B/s instead of waiting forever',
    async (count, bytes, rate) => {
      let calls = 0
      await expect(publishPaced(() => calls++, count, bytes, rate)).rejects.toThrow(
        /^paced publish: expected a positive count/,
      )
      expect(calls).toBe(0)
    },
  )
})
