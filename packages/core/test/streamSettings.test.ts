import { describe, expect, test } from 'vitest'
import { StreamSettingsCache } from '../src/stream/streamSettings.js'

const noFlush = () => {}

describe('StreamSettingsCache', () => {
  test('options without values get the documented defaults', () => {
    const settings = new StreamSettingsCache<string>(noFlush).of({})
    expect(settings).toMatchObject({
      maxBuffered: 512 * 1024,
      policy: 'disconnect',
      keepAlive: 30_000,
      retry: undefined,
      headers: undefined,
    })
  })

  test('streams given different option objects with the same values share one frozen settings object', () => {
    const cache = new StreamSettingsCache<string>(noFlush)
    const headers = { 'X-A': '1' }
    const first = cache.of({ retry: 0, keepAlive: 0, headers })
    const second = cache.of({ retry: 0, keepAlive: 0, headers, coalesceWindow: 10 })
    expect(second).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
  })

  test('each value is read from its own options: a difference in any one gives other settings', () => {
    const cache = new StreamSettingsCache<string>(noFlush)
    const base = cache.of({})
    const variants = [
      cache.of({ maxBufferedBytes: 1024 }),
      cache.of({ onOverflow: 'drop' }),
      cache.of({ keepAlive: 5 }),
      cache.of({ retry: 30_000 }),
      cache.of({ headers: {} }),
    ]
    for (const settings of variants) expect(settings).not.toBe(base)
    expect(variants.map((s) => [s.maxBuffered, s.policy, s.keepAlive, s.retry])).toEqual([
      [1024, 'disconnect', 30_000, undefined],
      [512 * 1024, 'drop', 30_000, undefined],
      [512 * 1024, 'disconnect', 5, undefined],
      [512 * 1024, 'disconnect', 30_000, 30_000],
      [512 * 1024, 'disconnect', 30_000, undefined],
    ])
  })

  test('headers match only as the same object, whose later changes the stream sees', () => {
    const cache = new StreamSettingsCache<string>(noFlush)
    const headers: Record<string, string> = { 'X-A': '1' }
    expect(cache.of({ headers: { 'X-A': '1' } })).not.toBe(cache.of({ headers }))
    headers['X-B'] = '2'
    expect(cache.of({ headers }).headers).toEqual({ 'X-A': '1', 'X-B': '2' })
  })

  test('one flush pass per coalesce window, shared by every settings of that window', () => {
    const cache = new StreamSettingsCache<string>(noFlush)
    expect(cache.of({ retry: 1 }).pass).toBe(cache.of({}).pass)
    expect(cache.of({ coalesceWindow: 0 }).pass).not.toBe(cache.of({}).pass)
  })

  test('past the settings it remembers, it still hands out the right values', () => {
    const cache = new StreamSettingsCache<string>(noFlush)
    for (let round = 0; round < 2; round++) {
      for (let retry = 0; retry < 20; retry++) expect(cache.of({ retry }).retry).toBe(retry)
    }
  })
})
