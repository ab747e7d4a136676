import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisAvailable } from '@sse/testkit/redisServer'
import { beforeAll, describe, expect, it } from 'vitest'
import { CONTENDER_IDS, OURS } from '../src/protocol.js'
import type { BenchResult, ScenarioResult } from '../src/results.js'
import { bundleBench } from './bundleBench.js'

/** Runs the bundled orchestrator in smoke mode; every child it starts dies with it. */
function runSmoke(dir: string, jsonFile: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dir, 'run.js'), '--smoke', `--json=${jsonFile}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGTERM'), 80_000)
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

  beforeAll(async () => {
    const dir = await bundleBench()
    const jsonFile = join(tmpdir(), `sse-bench-smoke-${process.pid}.json`)
    const run = await runSmoke(dir, jsonFile)
    output = run.output
    expect(run.code, output).toBe(0)
    result = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResult
    rmSync(jsonFile, { force: true })
  }, 110_000)

  it('prints a markdown report with a table per scenario', () => {
    for (const title of ['S1 fan-out', 'S2 latency', 'S3 idle', 'S4 slow', 'S5 replay']) {
      expect(output).toContain(`### ${title}`)
    }
    expect(output).toMatch(/\| Contender \| deliveries\/s \|/)
  })

  it('delivers every burst event, in order, to every client of every contender', () => {
    const s1 = scenario(result, 'S1')
    expect(s1.samples.map((s) => s.contender)).toEqual([...CONTENDER_IDS])
    for (const sample of s1.samples) {
      expect(sample.error, sample.contender).toBeUndefined()
      expect(sample.metrics.lost, sample.contender).toBe(0)
      expect(sample.metrics.reordered, sample.contender).toBe(0)
      expect(sample.metrics.deliveriesPerSec, sample.contender).toBeGreaterThan(0)
    }
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
