import { waitFor } from '@sse/testkit'
import { describe, expect, test } from 'vitest'
import { FlushPass } from '../src/stream/flushPass.js'

/** A flush pass over named streams, recording which pass flushed which stream. */
function recordingPass(window: number) {
  const flushed: { stream: string; pass: number }[] = []
  const lastPass = new Map<string, number>()
  const pass: FlushPass<string> = new FlushPass<string>((stream) => {
    flushed.push({ stream, pass: pass.pass })
    lastPass.set(stream, pass.pass)
  }, window)
  const schedule = (stream: string) => pass.schedule(stream, lastPass.get(stream) ?? 0)
  return { pass, flushed, schedule }
}

const microtasks = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}
const ticks = () => new Promise<void>((resolve) => process.nextTick(resolve))
/** Keeps the thread busy for `ms`, as writing to many sockets does. */
const busy = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}

describe('FlushPass', () => {
  test('streams that have not written yet are flushed together, in the turn they were scheduled', async () => {
    const { flushed, schedule } = recordingPass(1000)
    schedule('a')
    schedule('b')
    await microtasks()
    expect(flushed).toEqual([
      { stream: 'a', pass: 1 },
      { stream: 'b', pass: 1 },
    ])
  })

  test('a stream that has just written waits for the held pass, which flushes it later', async () => {
    const { flushed, schedule } = recordingPass(1000)
    schedule('a')
    await microtasks()
    await ticks()
    schedule('a')
    schedule('b')
    await microtasks()
    // `b` is idle and goes at once; `a` wrote a moment ago, so it waits.
    expect(flushed.map((entry) => entry.stream)).toEqual(['a', 'b'])
    await waitFor(() => flushed.length === 3)
    expect(flushed.map((entry) => entry.stream)).toEqual(['a', 'b', 'a'])
  })

  test('a held stream that is promoted (it gathered the byte budget) is written at the end of the turn', async () => {
    const { pass, flushed, schedule } = recordingPass(1000)
    schedule('a')
    await microtasks()
    await ticks()
    expect(schedule('a')).toBe(true)
    pass.promote('a')
    await microtasks()
    // Not a second later, with the held pass: in this turn's pass.
    expect(flushed.map((entry) => entry.pass)).toEqual([1, 2])
  })

  test('a pass lasts until the writes its flushes set off are done, even those made in later microtasks', async () => {
    // As `@hono/node-server` does with a Fetch body: the flush only enqueues, and a reader writes
    // it in a later microtask, reaching the socket on a tick (here, 30 ms of writing).
    const flushed: number[] = []
    const pass: FlushPass<string> = new FlushPass<string>(() => {
      flushed.push(pass.pass)
      void Promise.resolve().then(() => process.nextTick(busy, 30))
    }, 1000)
    pass.schedule('a', 0)
    await new Promise((resolve) => setImmediate(resolve))
    // The next turn comes right after those writes: the stream is busy, and waits for the held pass.
    expect(pass.schedule('a', 1)).toBe(true)
    await waitFor(() => flushed.length === 2)
    expect(flushed).toEqual([1, 2])
  })

  test('window 0 never holds a stream', async () => {
    const { flushed, schedule } = recordingPass(0)
    for (let i = 0; i < 3; i++) {
      schedule('a')
      await microtasks()
    }
    expect(flushed.map((entry) => entry.pass)).toEqual([1, 2, 3])
  })

  test('streams holding the same frames in a pass get the very same chunk', async () => {
    const frames = [Buffer.from('data: 1\n\n'), Buffer.from('data: 2\n\n')]
    const chunks: Buffer[] = []
    const pass: FlushPass<string> = new FlushPass<string>(() => {
      chunks.push(pass.concat(frames, 18))
    }, 0)
    pass.schedule('a', 0)
    pass.schedule('b', 0)
    await microtasks()
    expect(chunks).toHaveLength(2)
    expect(chunks[0]).toBe(chunks[1])
    expect(chunks[0]!.toString()).toBe('data: 1\n\ndata: 2\n\n')
    // Outside a pass nothing is shared (and nothing is kept between passes).
    expect(pass.concat(frames, 18)).not.toBe(chunks[0])
  })

  test('a long hold lasts while held streams gather frames fast; after one that gathered none, nothing is held until a short test hold 50 ms later, and a fast one makes holds long again', async () => {
    // Each pass takes `work` ms of writing: 30 ms makes a busy stream's hold 30 ms (the window is 1 s).
    let work = 30
    const flushed: number[] = []
    const pass: FlushPass<string> = new FlushPass<string>(() => {
      flushed.push(pass.pass)
      busy(work)
    }, 1000)
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve))
    /** Schedules 'a' as idle, then waits for its pass to end: 'a' has just written. */
    const justWrote = async () => {
      expect(pass.schedule('a', 0)).toBe(false)
      await microtasks()
      await ticks()
      await ticks()
    }
    /** Holds 'a' (busy: it just wrote), then says which comes first: its held pass or a 15 ms timer. */
    const holdRace = async (gathered: number) => {
      expect(pass.schedule('a', pass.pass)).toBe(true)
      for (let i = 0; i < gathered; i++) pass.gathered()
      const before = flushed.length
      const first = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('timer'), 15)
        const poll = setInterval(() => {
          if (flushed.length > before) {
            clearInterval(poll)
            clearTimeout(timer)
            resolve('held pass')
          }
        }, 0)
        timer.unref()
      })
      while (flushed.length === before) await nextTurn()
      return first
    }
    await justWrote()
    // Long holds at first (30 ms, the last pass's length); this one gathers nothing, so holding
    // stops. Its pass, and the next, take 1 ms: the next steps come well within 50 ms of it.
    work = 1
    expect(await holdRace(0)).toBe('timer')
    // Within 50 ms of that hold, a stream that wrote a moment ago still goes in its turn.
    await justWrote()
    expect(pass.schedule('a', pass.pass)).toBe(false)
    // 50 ms after it, a short hold tests holding again: it gathers at a high rate (1,000 frames),
    // so holds are long again (30 ms, the last pass's length).
    await new Promise((resolve) => setTimeout(resolve, 60))
    work = 30
    await justWrote()
    expect(await holdRace(1000)).toBe('held pass')
    expect(await holdRace(0)).toBe('timer')
  })

  test('after a hold that gathered nothing, a stream that wrote 3 ms ago goes at once, where a long hold held it', async () => {
    // Each pass takes 50 ms of writing: a busy stream's long hold is 50 ms.
    const flushed: number[] = []
    const pass: FlushPass<string> = new FlushPass<string>(() => {
      flushed.push(pass.pass)
      busy(50)
    }, 1000)
    const afterPass = async () => {
      await new Promise((resolve) => setImmediate(resolve))
      busy(3)
    }
    pass.schedule('a', 0)
    await afterPass()
    // Holds are long at first: 3 ms after its write, the stream is still busy.
    expect(pass.schedule('a', pass.pass)).toBe(true)
    await waitFor(() => flushed.length === 2)
    // That hold gathered nothing: 3 ms of quiet is now idle, and the frame goes in this turn.
    await afterPass()
    expect(pass.schedule('a', pass.pass)).toBe(false)
    await microtasks()
    expect(flushed).toEqual([1, 2, 3])
  })
})
