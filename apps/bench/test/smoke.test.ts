import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streamOptionsProperties } from '@sse/core/kit'
import { redisAvailable } from '@sse/testkit/redisServer'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  CONTENDER_IDS,
  CONTENDER_LABELS,
  type ContenderId,
  OURS,
  RESPONSE_TWIN,
} from '../src/protocol.js'
import type { BenchResult, ScenarioResult } from '../src/results.js'
import { bundleBench } from './bundleBench.js'

let bundled: Promise<string> | undefined

/** The bench bundled from sources, once for every run of this file. */
function bench(): Promise<string> {
  bundled ??= bundleBench()
  return bundled
}

/**
 * Runs the bundled orchestrator with `args` (in smoke mode) and reads the results it writes;
 * every child it starts dies with it.
 */
async function runBench(
  args: readonly string[],
  timeout: number,
): Promise<{ code: number | null; output: string; result: BenchResult | undefined }> {
  const dir = await bench()
  const jsonFile = join(tmpdir(), `sse-bench-smoke-${process.pid}-${Date.now()}.json`)
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(dir, 'run.js'), ...args, `--json=${jsonFile}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGTERM'), timeout)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
  let result: BenchResult | undefined
  try {
    result = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResult
  } catch {
    result = undefined
  }
  rmSync(jsonFile, { force: true })
  return { code, output, result }
}

function scenario(result: BenchResult, id: string): ScenarioResult {
  const found = result.scenarios.find((s) => s.id === id)
  if (found === undefined) throw new Error(`scenario ${id} missing from the results`)
  return found
}

/** Whether this @sse/core has the stream option the public-write-path contenders need. */
const coreHasWritePath = 'writePath' in streamOptionsProperties

/** The contenders of S1, S1b and S6: each of ours followed by its public-write-path twin. */
const WITH_TWINS: ContenderId[] = CONTENDER_IDS.flatMap((id): ContenderId[] => {
  const twin = RESPONSE_TWIN[id]
  return coreHasWritePath && twin !== undefined ? [id, twin] : [id]
})

describe('the benchmark harness (smoke run, nothing timed)', () => {
  let result: BenchResult
  let output = ''
  let svg = ''

  beforeAll(async () => {
    const svgFile = join(tmpdir(), `sse-bench-smoke-${process.pid}.svg`)
    // ~70 s on a quiet 2-core machine; three times that with five other jobs running.
    const run = await runBench(['--smoke', `--svg=${svgFile}`], 420_000)
    output = run.output
    expect(run.code, output).toBe(0)
    result = run.result!
    svg = readFileSync(svgFile, 'utf8')
    rmSync(svgFile, { force: true })
  }, 480_000)

  it('prints a markdown report with a table per scenario', () => {
    for (const title of [
      'S1 fan-out throughput, isolated events',
      'S1b fan-out throughput, bursts',
      'S2 latency',
      'S3 idle',
      'S4 slow',
      'S5 replay',
      'S6 single reader, paced at 40 MB/s, 1 KiB events',
      'S6 single reader, paced at 40 MB/s, 16 KiB events',
    ]) {
      expect(output).toContain(`### ${title}`)
    }
    expect(output).toMatch(/\| Contender \| deliveries\/s \|.*\| write syscalls\/delivery \|/)
  })

  for (const [id, pattern] of [
    ['S1', 'isolated'],
    ['S1b', 'burst'],
  ] as const) {
    it(`delivers every ${pattern} event, in order, to every client of every contender (${id})`, () => {
      const s1 = scenario(result, id)
      expect(s1.params['events per publish turn']).toBe(id === 'S1' ? 1 : 50)
      expect(s1.samples.map((s) => s.contender)).toEqual(WITH_TWINS)
      for (const sample of s1.samples) {
        expect(sample.error, sample.contender).toBeUndefined()
        expect(sample.metrics.lost, sample.contender).toBe(0)
        expect(sample.metrics.reordered, sample.contender).toBe(0)
        expect(sample.metrics.deliveriesPerSec, sample.contender).toBeGreaterThan(0)
        // Every delivery needed some write; off Linux the metric is absent.
        if (process.platform === 'linux') {
          expect(sample.metrics.writeSyscallsPerDelivery, sample.contender).toBeGreaterThan(0)
        }
      }
    })
  }

  it('draws the chart from its own results, every contender in it', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    for (const contender of CONTENDER_IDS) expect(svg).toContain(`>${CONTENDER_LABELS[contender]}<`)
    expect(svg).not.toContain('>TBD<')
  })

  it("measures our packages on the public write path beside the direct one, or says why it can't", () => {
    if (coreHasWritePath) {
      expect(scenario(result, 'S1').samples.map((s) => s.contender)).toContain('core-response')
      expect(output).toMatch(/\| S1 \(isolated\) @sse\/core, writePath 'response' vs @sse\/core/)
    } else {
      expect(result.warnings.join(' ')).toContain('no stream option "writePath"')
    }
  })

  it('parses the send timestamp of every event at each steady rate, framework floors included', () => {
    for (const rate of [20, 100, 200]) {
      const s2 = scenario(result, `S2-${rate}`)
      expect(s2.params['events/s']).toBe(rate)
      expect(s2.samples.map((s) => s.contender)).toContain('express-floor')
      for (const sample of s2.samples) {
        expect(sample.error, sample.contender).toBeUndefined()
        expect(sample.metrics.lost, sample.contender).toBe(0)
        expect(Number.isFinite(sample.metrics.p99Ms), sample.contender).toBe(true)
      }
      expect(output).toContain(`| S2 ${rate} events/s @sse/core (node:http) p99 vs baseline |`)
    }
  })

  it('streams to a single reader at a pace, from a busy event loop, for every contender; every event arrives unless the reader was cut', () => {
    for (const id of ['S6-1KiB', 'S6-16KiB']) {
      const s6 = scenario(result, id)
      expect(s6.params).toMatchObject({
        'pace (MB/s)': 40,
        'event loop busy': '25 ms every 100 ms',
      })
      expect(s6.samples.map((s) => s.contender)).toEqual(WITH_TWINS)
      // The last event is due (events − 1) × event bytes ÷ 40 MB/s after the first.
      const events = Number(s6.params.events)
      const scheduleMs = (((events - 1) * Number(s6.params['event bytes'])) / (40 * 2 ** 20)) * 1000
      for (const sample of s6.samples) {
        const name = `${id} ${sample.contender}`
        expect(sample.error, name).toBeUndefined()
        expect(sample.metrics.MBps, name).toBeGreaterThan(0)
        // Paced in every contender's process: no server published faster than the pace.
        expect(sample.metrics.publishMs, name).toBeGreaterThanOrEqual(scheduleMs * 0.99)
        expect(sample.metrics.ofPace, name).toBeLessThanOrEqual(events / (events - 1) + 0.01)
        expect(sample.metrics.reordered, name).toBe(0)
        if (sample.metrics.cut === 0) expect(sample.metrics.lost, name).toBe(0)
      }
      // The plain loop buffers without bound: it never cuts.
      const baseline = s6.samples.find((s) => s.contender === 'baseline')!
      expect(baseline.metrics.cut).toBe(0)
    }
    expect(output).toContain('| S6 single reader, 16 KiB events, @sse/core (node:http) MB/s')
  })

  it('measures server memory for idle connections', () => {
    for (const sample of scenario(result, 'S3').samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(Number.isFinite(sample.metrics.heapKB), sample.contender).toBe(true)
    }
  })

  it('keeps healthy clients served, none cut, while some stop reading', () => {
    const s4 = scenario(result, 'S4')
    expect(s4.failures).toBeUndefined()
    for (const sample of s4.samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(sample.notes.join(' '), sample.contender).not.toContain('did not')
      expect(sample.metrics.healthyRate, sample.contender).toBeGreaterThan(0)
      expect(sample.metrics.healthyCut, sample.contender).toBe(0)
      expect(sample.metrics.healthyMissed, sample.contender).toBe(0)
    }
  })

  it('replays what our packages missed after a reconnect with Last-Event-ID', () => {
    const s5 = scenario(result, 'S5')
    expect(s5.samples.map((s) => s.contender)).toEqual([...OURS])
    for (const sample of s5.samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(sample.metrics.eventsPerClient, sample.contender).toBe(
        Number(s5.params['events behind']),
      )
    }
  })

  it('delivers every event, in order, from one publisher to clients spread over processes over Redis', () => {
    if (!redisAvailable("the bench's scale-out scenario")) {
      expect(result.warnings.join(' ')).toContain('redis-server not found')
      return
    }
    for (const id of ['scaleout-1', 'scaleout-N']) {
      const found = scenario(result, id)
      expect(found.samples, id).toHaveLength(1)
      for (const sample of found.samples) {
        expect(sample.error, id).toBeUndefined()
        expect(sample.metrics.processes, id).toBe(id === 'scaleout-1' ? 1 : 2)
        expect(sample.metrics.lost, id).toBe(0)
        expect(sample.metrics.reordered, id).toBe(0)
        expect(sample.metrics.deliveriesPerSec, id).toBeGreaterThan(0)
      }
    }
    expect(output).toContain('### Scale-out: 2 processes over Redis')
  })

  it('carries events and history between two instances over Redis (or says why not)', () => {
    // Under CI the Redis scenario must run, not be skipped: redisAvailable() throws there instead.
    if (!redisAvailable("the bench's Redis scenario")) {
      expect(result.warnings.join(' ')).toContain('redis-server not found')
      return
    }
    for (const id of ['R-memory', 'R-redis']) {
      for (const sample of scenario(result, id).samples) {
        expect(sample.error, id).toBeUndefined()
        expect(sample.metrics.lost, id).toBe(0)
        expect(sample.metrics.eventsPerClient, id).toBe(
          Number(scenario(result, id).params['events behind']),
        )
      }
    }
  })
})

describe('the Fetch contenders, on Node and on Bun (smoke run of S1 and S3, a few seconds)', () => {
  it('deliver every event in order, measure idle memory, and take ratios to the plain loop of their own runtime', async () => {
    const run = await runBench(
      [
        '--smoke',
        '--svg=',
        '--only=S1,S3',
        '--contenders=fetch,fetch-web,hono-sse,fetch-bun,hono-sse-bun',
      ],
      120_000,
    )
    expect(run.code, run.output).toBe(0)
    expect(run.result?.machine.bun).toMatch(/^\d+\.\d+/)
    const order = [
      'baseline',
      'fetch',
      'fetch-web',
      'hono-sse',
      'baseline-bun',
      'fetch-bun',
      'hono-sse-bun',
    ]
    const s1 = scenario(run.result!, 'S1')
    expect(s1.samples.map((s) => s.contender)).toEqual(order)
    for (const sample of s1.samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(sample.metrics.lost, sample.contender).toBe(0)
      expect(sample.metrics.reordered, sample.contender).toBe(0)
      expect(sample.metrics.deliveriesPerSec, sample.contender).toBeGreaterThan(0)
    }
    // In S3 the web path's framework floor (a Hono route, no SSE library) comes after it.
    const s3 = scenario(run.result!, 'S3')
    expect(s3.samples.map((s) => s.contender)).toEqual([
      ...order.slice(0, 3),
      'hono-floor',
      ...order.slice(3),
    ])
    for (const sample of s3.samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(Number.isFinite(sample.metrics.rssKB), sample.contender).toBe(true)
    }
    // The plain loop on Bun is its own reference; the Fetch targets are in the table.
    expect(run.output).toMatch(
      /\| baseline on Bun \(Bun\.serve, ReadableStream per client\) \| [^|]+ \| 1\.00× \|/,
    )
    expect(run.output).toContain(
      "| S1 (isolated) @sse/fetch on Bun (Hono on Bun.serve) deliveries/s vs hono's streamSSE on Bun",
    )
  }, 150_000)
})

describe('the benchmark harness on another Node major (--node)', () => {
  it('runs the idle scenario with bare Express as a contender of its own on Node 24', async () => {
    const run = await runBench(
      ['--smoke', '--svg=', '--only=S3', '--contenders=express-floor', '--node=24'],
      540_000,
    )
    expect(run.code, run.output).toBe(0)
    expect(run.result?.machine.serverNode).toMatch(/^v24\./)
    expect(run.output).toContain('contender servers on Node v24.')
    const s3 = scenario(run.result!, 'S3')
    expect(s3.samples.map((s) => s.contender)).toEqual(['baseline', 'express-floor'])
    for (const sample of s3.samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(Number.isFinite(sample.metrics.rssKB), sample.contender).toBe(true)
    }
  }, 600_000)
})
