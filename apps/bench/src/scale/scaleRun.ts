/**
 * The scale scenario, off by default: `pnpm bench:scale [--connections=100000] [--servers=6]
 * [--clients=6] [options]` (`node dist/scale/scaleRun.js …` after a build).
 *
 *   --connections=N   concurrent SSE connections in all (100000)
 *   --servers=N       server processes, each an app instance on its own port (6)
 *   --clients=N       client processes, each from its own 127.x.y.z source address (6)
 *   --broadcasts=N    broadcasts, one at a time (5); --size=N bytes each (200); --gap=ms (1000)
 *   --idle=S          seconds of idle CPU measurement (30)
 *   --concurrency=N   connections each client process opens at once (128)
 *   --timeout=ms      how long one broadcast may take to reach everyone (60000)
 *   --partitions=N    ours: redisTransport({ partitions: N }), passed only when given
 *   --modes=plain,ours
 *   --json=path, --md=path   write the results / the report (relative to where pnpm started)
 *
 * Each process holds at most 18,000 sockets (the open-file limit is 20,000); the plain
 * `node:http` loop runs first in the same layout, then ours, against one redis-server started here.
 * Every child is tracked by pid and stopped at the end, Redis too.
 */
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REDIS_SERVER, redisServerInstalled, startRedis } from '@sse/testkit/redisServer'
import { killAllChildren } from '../serverProcess.js'
import type { ModeResult } from './modeResult.js'
import { isAlive, ProcessWatch, redisPidOn } from './processWatch.js'
import { parseScaleArgs } from './scaleConfig.js'
import { runMode } from './scaleMode.js'
import { type ScaleResult, scaleReport } from './scaleReport.js'

const log = (line: string): void => {
  process.stderr.write(`[scale] ${line}\n`)
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((arg) => arg !== '--')
  const config = parseScaleArgs(args, (path) =>
    resolve(process.env.INIT_CWD ?? process.cwd(), path),
  )
  if (!redisServerInstalled()) throw new Error(`${REDIS_SERVER} not found: the scenario needs it`)
  const started = performance.now()
  const watch = new ProcessWatch()
  const redis = await startRedis()
  watch.add(redisPidOn(redis.port))
  log(`redis-server on ${redis.url}`)
  const modes: ModeResult[] = []
  try {
    const context = {
      dir: dirname(fileURLToPath(import.meta.url)),
      redisUrl: redis.url,
      keyPrefix: `scale:${process.pid}:${Date.now()}`,
      addressBase: `127.${10 + Math.floor(Math.random() * 240)}`,
      watch: (pid: number) => watch.add(pid),
      log,
    }
    for (const mode of config.modes) modes.push(await runMode(context, config, mode))
  } finally {
    await redis.stop()
    killAllChildren()
  }
  watch.sample()
  const leftovers = await watch.killLeftovers()
  const pids = [...watch.pids].filter((pid) => pid !== process.pid)
  const cpu = cpus()
  const result: ScaleResult = {
    command: `pnpm bench:scale ${args.filter((a) => !/^--(json|md)=/.test(a)).join(' ')}`.trim(),
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    },
    config,
    modes,
    peakRssMB: watch.peakRss / 2 ** 20,
    pids,
    leftovers,
    stillAlive: pids.filter(isAlive),
    durationS: (performance.now() - started) / 1000,
  }
  const report = scaleReport(result)
  process.stdout.write(`${report}\n`)
  if (config.json !== undefined) writeFileSync(config.json, `${JSON.stringify(result, null, 2)}\n`)
  if (config.md !== undefined) writeFileSync(config.md, `${report}\n`)
  const failed = modes.some((m) => m.failures.length > 0) || result.stillAlive.length > 0
  if (failed) process.exitCode = 1
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren()
    process.exit(130)
  })
}

main().catch((error: unknown) => {
  killAllChildren()
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
