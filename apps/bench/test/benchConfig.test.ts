import { describe, expect, it } from 'vitest'
import { applyOverride, configFor } from '../src/benchConfig.js'
import { serverNodeOf } from '../src/serverNode.js'

describe('bench options', () => {
  it('sets a list from comma-separated numbers, such as the rates of S2', () => {
    const config = configFor('full')
    applyOverride(config, 's2.rates', '20,100')
    applyOverride(config, 's6.sizes', '1024')
    expect(config.s2.rates).toEqual([20, 100])
    expect(config.s6.sizes).toEqual([1024])
  })

  it('runs S2 at 20, 100 and 200 events/s, judged over three rounds, and S6 at 1 KiB and 16 KiB', () => {
    const full = configFor('full')
    expect(full.s2.rates).toEqual([20, 100, 200])
    expect(full.s2.rounds).toBe(3)
    expect(full.s6.sizes).toEqual([1024, 16_384])
    expect(configFor('smoke').s2.rates).toEqual(full.s2.rates)
  })

  it("paces S6 at the issue's 40 MB/s with the event loop busy, in every mode", () => {
    for (const mode of ['full', 'quick', 'smoke'] as const) {
      const { s6 } = configFor(mode)
      expect(s6.rate, mode).toBe(40)
      expect(s6.busy, mode).toBe(true)
      expect(s6.sizes, mode).toEqual([1024, 16_384])
    }
  })

  it("sets S6's pace in MB/s and switches its busy event loop off or on", () => {
    const config = configFor('full')
    applyOverride(config, 's6.rate', '12.5')
    applyOverride(config, 's6.busy', 'false')
    expect(config.s6).toMatchObject({ rate: 12.5, busy: false })
    applyOverride(config, 's6.busy', 'on')
    expect(config.s6.busy).toBe(true)
  })

  it.each([
    ['s2.rates', '20,,100'],
    ['s2.rates', '20,fast'],
    ['s2.rates', '0'],
    ['s6.sizes', '-1024'],
    ['s6.megabytes', '0.5'],
    ['s6.rate', '0'],
    ['s6.rate', '-40'],
    ['s6.busy', 'maybe'],
    ['s6.busy', '25'],
    ['s6.busy', ''],
    ['s1.clients', ''],
    ['workers', '0'],
  ])('refuses --%s=%j', (key, value) => {
    const config = configFor('quick')
    const before = structuredClone(config)
    expect(() => applyOverride(config, key, value)).toThrow(`--${key}`)
    expect(config).toEqual(before)
  })

  it('refuses a parameter no scenario has', () => {
    expect(() => applyOverride(configFor('quick'), 's6.readers', '2')).toThrow(
      'unknown option --s6.readers',
    )
  })

  it('refuses a Node version that is not a major number, before asking npx for it', () => {
    for (const major of [Number.NaN, 24.5, 4]) {
      expect(() => serverNodeOf(major)).toThrow('--node: expected a Node major version')
    }
  })

  it("runs the servers on this process's own Node when --node names its major", () => {
    const major = Number(process.versions.node.split('.')[0])
    expect(serverNodeOf(major)).toEqual({ path: process.execPath, version: process.version })
  })
})
