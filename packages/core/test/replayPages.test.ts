import { describe, expect, test } from 'vitest'
import { REPLAY_PAGE_BYTES } from '../src/index.js'
import { ReplayPages } from '../src/stream/replayPages.js'

describe('ReplayPages', () => {
  const frame = (bytes: number, fill: string) => Buffer.alloc(bytes, fill)

  test('hands out whole frames, about REPLAY_PAGE_BYTES per page, in order', () => {
    const third = Math.floor(REPLAY_PAGE_BYTES / 3)
    const frames = ['a', 'b', 'c', 'd'].map((fill) => frame(third, fill))
    const pages = new ReplayPages(frames.slice())
    expect(pages.next().equals(Buffer.concat(frames.slice(0, 3)))).toBe(true)
    expect(pages.done).toBe(false)
    expect(pages.next()).toBe(frames[3])
    expect(pages.done).toBe(true)
  })

  test('a frame larger than a page is a page of its own', () => {
    const big = frame(REPLAY_PAGE_BYTES + 1, 'x')
    const pages = new ReplayPages([frame(1, 'a'), big, frame(1, 'b')])
    expect(pages.next().toString()).toBe('a')
    expect(pages.next()).toBe(big)
    expect(pages.next().toString()).toBe('b')
    expect(pages.done).toBe(true)
  })

  test('lets go of each frame once handed out', () => {
    const frames = [frame(10, 'a'), frame(REPLAY_PAGE_BYTES, 'b')]
    const pages = new ReplayPages(frames)
    pages.next()
    expect(frames[0]!.length).toBe(0)
    expect(frames[1]!.length).toBe(REPLAY_PAGE_BYTES)
  })
})
