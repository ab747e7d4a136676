import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisAvailable } from '@sse/testkit/redisServer'
import { beforeAll, describe, expect, it } from 'vitest'
import { CONTENDER_IDS, CONTENDER_LABELS, OURS } from '../src/protocol.js'
import type { BenchResult, ScenarioResult } from '../src/results.js'
import { bundleBench } from './bundleBench.js'

/** Runs the bundled orchestrator in smoke mode; every child it starts dies with it. */
function runSmoke(
  dir: string,
  jsonFile: string,
  svgFile: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const args = [join(dir, 'run.js'), '--smoke', `--json=${jsonFile}`, `--svg=${svgFile}`]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGTERM'), 180_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

function scenario(result: BenchResult, id: string): ScenarioResult {
  const found = result.scenarios.find((s) => s.id === id)
  if (found === undefined) throw new Error(`scenario ${id} missing from the results`)
  return found
}

describe('the benchmark harness (smoke run, nothing timed)', () => {
  let result: BenchResult
  let output = ''
  let svg = ''

  beforeAll(async () => {
    const dir = await bundleBench()
    const jsonFile = join(tmpdir(), `sse-bench-smoke-${process.pid}.json`)
    const svgFile = join(tmpdir(), `sse-bench-smoke-${process.pid}.svg`)
    const run = await runSmoke(dir, jsonFile, svgFile)
    output = run.output
    expect(run.code, output).toBe(0)
    result = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResult
    svg = readFileSync(svgFile, 'utf8')
    rmSync(jsonFile, { force: true })
    rmSync(svgFile, { force: true })
  }, 200_000)

  it('prints a markdown report with a table per scenario', () => {
    for (const title of [
      'S1 fan-out throughput, isolated events',
      'S1b fan-out throughput, bursts',
      'S2 latency',
      'S3 idle',
      'S4 slow',
      'S5 replay',
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
      expect(s1.samples.map((s) => s.contender)).toEqual([...CONTENDER_IDS])
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

  it('parses the send timestamp of every event at a steady rate', () => {
    for (const sample of scenario(result, 'S2').samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(sample.metrics.lost, sample.contender).toBe(0)
      expect(Number.isFinite(sample.metrics.p99Ms), sample.contender).toBe(true)
    }
  })

  it('measures server memory for idle connections', () => {
    for (const sample of scenario(result, 'S3').samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(Number.isFinite(sample.metrics.heapKB), sample.contender).toBe(true)
    }
  })

  it('keeps healthy clients served while some stop reading', () => {
    for (const sample of scenario(result, 'S4').samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(sample.notes.join(' '), sample.contender).not.toContain('did not')
      expect(sample.metrics.healthyRate, sample.contender).toBeGreaterThan(0)
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
