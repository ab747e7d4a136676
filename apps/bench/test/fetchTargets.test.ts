import { describe, expect, it } from 'vitest'
import { markdownReport } from '../src/markdownReport.js'
import { plainLoopOf, runtimeOf, withPlainLoops } from '../src/runtimes.js'
import { targetChecks } from '../src/targetChecks.js'
import { check, result, rounds, scenario } from './resultFixtures.js'

describe('the Fetch contenders', () => {
  it('run on their runtime, each after the plain loop of that runtime', () => {
    expect(runtimeOf('fetch')).toBe('node')
    expect(runtimeOf('hono-sse-bun')).toBe('bun')
    expect(plainLoopOf('fetch-bun')).toBe('baseline-bun')
    expect(plainLoopOf('hono-sse')).toBe('baseline')
    expect(withPlainLoops(['baseline', 'core', 'fetch-bun', 'hono-sse', 'hono-sse-bun'])).toEqual([
      'baseline',
      'core',
      'baseline-bun',
      'fetch-bun',
      'hono-sse',
      'hono-sse-bun',
    ])
  })

  it('holds @sse/fetch on Node within 1.2× of the best of our Node adapters, round by round', () => {
    const s1 = scenario('S1', {
      baseline: rounds({ deliveriesPerSec: 100 }, { deliveriesPerSec: 100 }),
      core: rounds({ deliveriesPerSec: 300 }, { deliveriesPerSec: 200 }),
      express: rounds({ deliveriesPerSec: 240 }, { deliveriesPerSec: 260 }),
      fetch: rounds({ deliveriesPerSec: 240 }, { deliveriesPerSec: 200 }),
      'hono-sse': rounds({ deliveriesPerSec: 80 }, { deliveriesPerSec: 90 }),
    })
    const within = check(targetChecks(result(s1)), 'S1 (isolated) @sse/fetch (Hono on')
    // 240 ÷ 300 in round 1, 200 ÷ 260 in round 2.
    expect(within.measured).toBe('0.78× (0.77–0.80)')
    expect(within.goal).toBe('≥ 0.83× (within 1.2×)')
    expect(within.passed).toBe(false)
    const ahead = check(targetChecks(result(s1)), "deliveries/s vs hono's streamSSE (@hono")
    expect(ahead.passed).toBe(true)
  })

  it('judges latency and memory lower-is-better, and the Bun pair against each other', () => {
    const s2 = scenario(
      'S2-100',
      {
        baseline: rounds({ p99Ms: 10 }),
        fastify: rounds({ p99Ms: 10 }),
        fetch: rounds({ p99Ms: 11.5 }),
        'hono-sse': rounds({ p99Ms: 11 }),
      },
      { 'events/s': 100 },
    )
    const s3 = scenario('S3', {
      baseline: rounds({ rssKB: 10, heapKB: 5 }),
      'baseline-bun': rounds({ rssKB: 4, heapKB: 2 }),
      'fetch-bun': rounds({ rssKB: 6, heapKB: 3 }),
      'hono-sse-bun': rounds({ rssKB: 5, heapKB: 4 }),
    })
    const checks = targetChecks(result(s2, s3))
    expect(
      check(checks, 'S2 100 events/s @sse/fetch (Hono on @hono/node-server, node: c.env) p99 vs')
        .passed,
    ).toBe(true)
    expect(
      check(
        checks,
        "S2 100 events/s @sse/fetch (Hono on @hono/node-server, node: c.env) p99 vs hono's",
      ).passed,
    ).toBe(false)
    expect(check(checks, 'S3 @sse/fetch on Bun (Hono on Bun.serve) RSS/conn').measured).toBe(
      '1.20×',
    )
    expect(check(checks, 'S3 @sse/fetch on Bun (Hono on Bun.serve) heap/conn').passed).toBe(true)
    // No Node adapter of ours ran in S3: no check against them.
    expect(checks.some((c) => c.target.startsWith('S3') && c.target.includes('best of'))).toBe(
      false,
    )
  })

  it('reports each Bun contender as a ratio to the plain loop on Bun', () => {
    const s3 = scenario('S3', {
      baseline: rounds({ rssKB: 10, heapKB: 5 }),
      'baseline-bun': rounds({ rssKB: 4, heapKB: 2 }),
      'fetch-bun': rounds({ rssKB: 6, heapKB: 3 }),
    })
    const report = markdownReport(result(s3))
    expect(report).toMatch(/\| @sse\/fetch on Bun \(Hono on Bun\.serve\) \| 6 \| 1\.50× \|/)
    expect(report).toContain('ratios to the plain loop on Bun')
  })
})
