import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisAvailable } from '@sse/testkit/redisServer'
import { beforeAll, describe, expect, it } from 'vitest'
import { isAlive } from '../src/scale/processWatch.js'
import type { ScaleResult } from '../src/scale/scaleReport.js'
import { bundleScale } from './bundleBench.js'

const CONNECTIONS = 1000
const SERVERS = 2
const CLIENTS = 2
const BROADCASTS = 3

/** Runs the bundled scale orchestrator with `args` and reads the results it writes. */
async function runScale(
  args: readonly string[],
): Promise<{ code: number | null; output: string; result: ScaleResult | undefined }> {
  const dir = await bundleScale()
  const jsonFile = join(tmpdir(), `sse-bench-scale-${process.pid}-${Date.now()}.json`)
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [join(dir, 'scaleRun.js'), ...args, `--json=${jsonFile}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGTERM'), 100_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
  let result: ScaleResult | undefined
  try {
    result = JSON.parse(readFileSync(jsonFile, 'utf8')) as ScaleResult
  } catch {
    result = undefined
  }
  rmSync(jsonFile, { force: true })
  return { code, output, result }
}

// Under CI a missing redis-server fails the run: redisAvailable() throws there instead.
describe.runIf(redisAvailable("the bench's scale scenario"))(
  `the scale scenario, small (${SERVERS} servers × ${CLIENTS} client processes × ${CONNECTIONS / CLIENTS} connections)`,
  () => {
    let result: ScaleResult
    let output = ''

    beforeAll(async () => {
      const run = await runScale([
        `--connections=${CONNECTIONS}`,
        `--servers=${SERVERS}`,
        `--clients=${CLIENTS}`,
        `--broadcasts=${BROADCASTS}`,
        '--idle=0.5',
        '--gap=100',
      ])
      output = run.output
      expect(run.code, output).toBe(0)
      expect(run.result, output).toBeDefined()
      result = run.result!
    }, 120_000)

    it('runs the plain loop, then ours, in the same layout', () => {
      expect(result.modes.map((m) => m.mode)).toEqual(['plain', 'ours'])
      for (const mode of result.modes) {
        expect(mode.pids.servers, mode.mode).toHaveLength(SERVERS)
        expect(mode.pids.clients, mode.mode).toHaveLength(CLIENTS)
        expect(new Set(mode.ports).size, mode.mode).toBe(SERVERS)
        expect(new Set(mode.sourceAddresses.flat()).size, mode.mode).toBe(CLIENTS)
      }
    })

    it('opens every connection and delivers every broadcast to each, none lost', () => {
      for (const mode of result.modes) {
        expect(mode.failures, mode.mode).toEqual([])
        expect(mode.opened, mode.mode).toBe(CONNECTIONS)
        expect(mode.subscribers, mode.mode).toBe(CONNECTIONS)
        expect(
          mode.broadcasts.map((b) => b.received),
          mode.mode,
        ).toEqual(Array(BROADCASTS).fill(CONNECTIONS))
        expect(mode.received, mode.mode).toBe(CONNECTIONS * BROADCASTS)
        expect([mode.lost, mode.gaps, mode.reorders], mode.mode).toEqual([0, 0, 0])
        expect(mode.openAtEnd, mode.mode).toBe(CONNECTIONS)
      }
    })

    it('measures connect time, memory, idle CPU and delivery latency, and reports their ratios', () => {
      for (const mode of result.modes) {
        for (const figure of [
          mode.connectMs,
          mode.rssPerConnectionKB,
          mode.idleCpuPer10kPercent,
          mode.p50Ms,
          mode.p99Ms,
        ]) {
          expect(Number.isFinite(figure), mode.mode).toBe(true)
        }
      }
      expect(output).toMatch(
        /\| Broadcast delivery, p99 \| \d+ ms \| \d+ ms \| [\d.]+× \| < 1 s \|/,
      )
      expect(result.peakRssMB).toBeGreaterThan(0)
    })

    it('stops every process it started, Redis included', () => {
      // Per mode: the servers, the client processes and the publisher; and one redis-server.
      expect(result.pids).toHaveLength(2 * (SERVERS + CLIENTS + 1) + 1)
      expect(result.leftovers).toEqual([])
      expect(result.pids.filter(isAlive)).toEqual([])
    })
  },
)
