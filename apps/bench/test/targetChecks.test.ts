import { describe, expect, it } from 'vitest'
import { markdownReport } from '../src/markdownReport.js'
import { targetChecks } from '../src/targetChecks.js'
import { check, result, rounds, scenario } from './resultFixtures.js'

describe('the targets table', () => {
  it('fails the single reader on a cut even when its MB/s beats the plain loop', () => {
    const s6 = scenario(
      'S6-16KiB',
      {
        baseline: rounds({ MBps: 100, cut: 0 }, { MBps: 100, cut: 0 }, { MBps: 100, cut: 0 }),
        core: rounds({ MBps: 150, cut: 0 }, { MBps: 160, cut: 1 }, { MBps: 150, cut: 0 }),
        express: rounds({ MBps: 100, cut: 0 }, { MBps: 101, cut: 0 }, { MBps: 99, cut: 0 }),
        fastify: rounds({ MBps: 95, cut: 0 }, { MBps: 99, cut: 0 }, { MBps: 99, cut: 0 }),
      },
      { 'event bytes': 16_384 },
    )
    const checks = targetChecks(result(s6))
    const core = check(checks, 'S6 single reader, 16 KiB events, @sse/core (node:http)')
    expect(core.passed).toBe(false)
    expect(core.measured).toBe('1.50× (1.50–1.60), cut in 1 of 3 rounds')
    expect(check(checks, '16 KiB events, @sse/express').passed).toBe(true)
    expect(check(checks, '16 KiB events, @sse/fastify').passed).toBe(false)
  })

  it('passes a single reader that ties the plain loop at the pace, and fails one 1 % short of it', () => {
    const s6 = scenario(
      'S6-1KiB',
      {
        baseline: rounds({ MBps: 39.9, cut: 0 }, { MBps: 39.8, cut: 0 }, { MBps: 39.9, cut: 0 }),
        core: rounds({ MBps: 39.8, cut: 0 }, { MBps: 39.9, cut: 0 }, { MBps: 39.75, cut: 0 }),
        express: rounds({ MBps: 39.5, cut: 0 }, { MBps: 39.4, cut: 0 }, { MBps: 39.5, cut: 0 }),
      },
      { 'event bytes': 1024 },
    )
    const checks = targetChecks(result(s6))
    const core = check(checks, '1 KiB events, @sse/core (node:http)')
    expect(core.measured).toBe('1.00× (1.00–1.00), cut in 0 of 3 rounds')
    expect(core.passed).toBe(true)
    expect(check(checks, '1 KiB events, @sse/express').measured).toMatch(/^0\.99×/)
    expect(check(checks, '1 KiB events, @sse/express').passed).toBe(false)
  })

  it('judges S2 at every rate by the median of the rounds, against the plain loop', () => {
    const at = (rate: number, core: number[]) =>
      scenario(
        `S2-${rate}`,
        {
          baseline: rounds({ p99Ms: 10 }, { p99Ms: 10 }, { p99Ms: 10 }),
          core: core.map((p99Ms) => ({ p99Ms })),
        },
        { 'events/s': rate },
      )
    const checks = targetChecks(
      result(at(20, [9, 30, 10]), at(100, [12, 11, 30]), at(200, [5, 5, 5])),
    )
    expect(check(checks, 'S2 20 events/s @sse/core').passed).toBe(true)
    expect(check(checks, 'S2 100 events/s @sse/core').passed).toBe(false)
    expect(check(checks, 'S2 200 events/s @sse/core').measured).toBe('0.50×')
  })

  it('holds the public write path within 10 % of the direct one on isolated events', () => {
    const s1 = scenario('S1', {
      baseline: rounds({ deliveriesPerSec: 100 }),
      core: rounds({ deliveriesPerSec: 1000 }),
      'core-response': rounds({ deliveriesPerSec: 880 }),
      express: rounds({ deliveriesPerSec: 900 }),
      'express-response': rounds({ deliveriesPerSec: 850 }),
    })
    const checks = targetChecks(result(s1))
    expect(check(checks, "@sse/core, writePath 'response' vs @sse/core").passed).toBe(false)
    expect(check(checks, "@sse/express, writePath 'response' vs @sse/express").passed).toBe(true)
    expect(check(checks, 'S1 (isolated) @sse/express vs baseline').goal).toBe('≥ 1.80×')
  })

  it('holds Express to the RSS per idle connection of bare Express', () => {
    const s3 = scenario('S3', {
      baseline: rounds({ rssKB: 10, heapKB: 5 }),
      express: rounds({ rssKB: 12, heapKB: 6 }),
      'express-floor': rounds({ rssKB: 11.5, heapKB: 9 }),
    })
    const floor = check(targetChecks(result(s3)), 'RSS/conn vs bare Express (floor)')
    expect(floor.goal).toBe('≤ 1.00×')
    expect(floor.passed).toBe(false)
  })

  it('misses S4 on a healthy client cut in any round, and the report says the scenario failed', () => {
    const healthy = {
      healthyRate: 100,
      healthyCut: 0,
      healthyMissed: 0,
      stalledHeldMB: 0,
      boundMB: 5,
    }
    const s4 = scenario(
      'S4',
      {
        baseline: rounds(healthy, healthy, healthy),
        core: rounds(healthy, { ...healthy, healthyCut: 1, healthyMissed: 12 }, healthy),
      },
      {},
      [
        '@sse/core (node:http), round 2: 1 healthy clients cut, 12 events missed by healthy clients',
      ],
    )
    const bench = result(s4)
    const cut = check(targetChecks(bench), 'S4 @sse/core (node:http) healthy clients: cut')
    expect(cut.measured).toBe('1 / 12')
    expect(cut.passed).toBe(false)
    expect(
      check(targetChecks(bench), 'S4 @sse/core (node:http) healthy rate vs baseline').passed,
    ).toBe(true)
    const report = markdownReport(bench)
    expect(report).toContain('### Failed')
    expect(report).toContain('- **FAILED** @sse/core (node:http), round 2: 1 healthy clients cut')
    expect(report).toMatch(
      /\| S4 @sse\/core \(node:http\) healthy clients: cut .*\| 1 \/ 12 \| 0 \/ 0 \| ❌ \|/,
    )
  })

  it('shows nothing measured rather than a pass when every round of a contender failed', () => {
    const s6 = scenario(
      'S6-1KiB',
      { baseline: rounds({ MBps: 100, cut: 0 }) },
      { 'event bytes': 1024 },
    )
    s6.samples.push({ contender: 'core', round: 1, metrics: {}, notes: [], error: 'crashed' })
    expect(check(targetChecks(result(s6)), '1 KiB events, @sse/core').passed).toBeUndefined()
  })
})
