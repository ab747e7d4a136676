import { afterEach, describe, expect, it } from 'vitest'
import { BusyLoop } from '../src/busyLoop.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const refedTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

const loops: BusyLoop[] = []
afterEach(() => {
  for (const loop of loops.splice(0)) loop.stop()
})

function busyLoop(): BusyLoop {
  const loop = new BusyLoop()
  loops.push(loop)
  return loop
}

describe("the single-reader scenario's busy event loop", () => {
  it('holds the event loop for its spell on a tick of its timer, and reports the time spent', async () => {
    const loop = busyLoop()
    loop.start(20, 10)
    const from = performance.now()
    // Timers fire in the order they fall due: the 20 ms tick has spun before this one ends.
    await sleep(150)
    const spent = loop.stop()
    expect(spent.ms).toBeGreaterThanOrEqual(10)
    expect(spent.ms).toBeLessThanOrEqual(performance.now() - from)
    expect(spent.cpuMicros).toBeGreaterThan(0)
  })

  it('spins no more after stop(), and a second stop() reports nothing spent', async () => {
    const loop = busyLoop()
    loop.start(10, 5)
    loop.stop()
    await sleep(60)
    expect(loop.stop()).toEqual({ ms: 0, cpuMicros: 0 })
  })

  it.each([
    [100, 100],
    [100, 150],
    [100, 0],
    [0, 0],
    [Number.NaN, 25],
    [100, -1],
  ])('refuses to be busy %d ms in every %d ms: the loop would never be free', (every, busyFor) => {
    const loop = busyLoop()
    expect(() => loop.start(every, busyFor)).toThrow(/^busy loop: expected 0 < forMs < everyMs/)
    expect(loop.stop()).toEqual({ ms: 0, cpuMicros: 0 })
  })

  it('never keeps the process alive by itself', () => {
    const before = refedTimers()
    busyLoop().start(100, 25)
    expect(refedTimers()).toBe(before)
  })

  it('runs one schedule at a time: a new start replaces the running one', async () => {
    const loop = busyLoop()
    loop.start(10, 5)
    loop.start(1000, 5)
    await sleep(60)
    // The 10 ms schedule would have spun by now; the 1 s one has not yet.
    expect(loop.stop().ms).toBe(0)
  })
})
