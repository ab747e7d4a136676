/**
 * A contender server process, forked by the orchestrator: `node --expose-gc server.js '<config>'`
 * (`bun server.js '<config>'` for the contenders on Bun).
 * It serves SSE on 127.0.0.1 and takes commands over IPC; the publish loops run here, the same
 * way for every contender.
 */
import { BusyLoop, type BusySpent } from './busyLoop.js'
import { nowMicros } from './clock.js'
import { bunRuntime } from './contenders/bunServer.js'
import { startContender } from './contenders/index.js'
import { publishPaced } from './pacedPublisher.js'
import { makePayload } from './payload.js'
import type {
  BurstResult,
  MemorySample,
  ServerCommand,
  ServerConfig,
  ServerMessage,
  ServerUsage,
} from './protocol.js'
import { writeSyscalls } from './writeSyscalls.js'

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig
const contender = await startContender[config.contender](config)
let seq = 0
let peakRss = process.memoryUsage.rss()
const rssSampler = setInterval(() => {
  const rss = process.memoryUsage.rss()
  if (rss > peakRss) peakRss = rss
}, 20)
rssSampler.unref()
const busyLoop = new BusyLoop()

function publishOne(size: number): void {
  contender.publish(makePayload(seq++, size))
}

function burst(count: number, size: number, chunk: number): Promise<BurstResult> {
  const firstSeq = seq
  const startedAt = nowMicros()
  let left = count
  return new Promise((resolve) => {
    const step = (): void => {
      const n = Math.min(chunk, left)
      for (let i = 0; i < n; i++) publishOne(size)
      left -= n
      if (left > 0) setImmediate(step)
      else resolve({ firstSeq, lastSeq: seq - 1, startedAt, endedAt: nowMicros() })
    }
    step()
  })
}

async function paced(
  count: number,
  size: number,
  megabytesPerSecond: number,
): Promise<BurstResult> {
  const firstSeq = seq
  const span = await publishPaced(() => publishOne(size), count, size, megabytesPerSecond * 2 ** 20)
  return { firstSeq, lastSeq: seq - 1, ...span }
}

function busy(everyMs: number, forMs: number): BusySpent {
  const spun = busyLoop.stop()
  if (forMs > 0) busyLoop.start(everyMs, forMs)
  return spun
}

function rate(perSecond: number, duration: number, size: number): Promise<BurstResult> {
  const firstSeq = seq
  const total = Math.max(1, Math.round((perSecond * duration) / 1000))
  const interval = 1000 / perSecond
  const start = performance.now()
  const startedAt = nowMicros()
  let sent = 0
  return new Promise((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1)
      while (sent < due) {
        publishOne(size)
        sent++
      }
      if (sent >= total) {
        resolve({ firstSeq, lastSeq: seq - 1, startedAt, endedAt: nowMicros() })
        return
      }
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
    }
    tick()
  })
}

/** A full collection: `gc()` of `--expose-gc` on Node, `Bun.gc(true)` on Bun. */
function collectGarbage(): void {
  const bun = bunRuntime()
  if (bun !== undefined) bun.gc(true)
  else (globalThis as { gc?: () => void }).gc?.()
}

async function memory(): Promise<MemorySample> {
  for (let i = 0; i < 3; i++) {
    collectGarbage()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { rss, heapUsed, external, arrayBuffers }
}

async function run(command: ServerCommand): Promise<unknown> {
  switch (command.op) {
    case 'burst':
      return burst(command.count, command.size, command.chunk)
    case 'paced':
      return paced(command.count, command.size, command.megabytesPerSecond)
    case 'busy':
      return busy(command.everyMs, command.forMs)
    case 'rate':
      return rate(command.rate, command.duration, command.size)
    case 'memory':
      return memory()
    case 'subscribers':
      return contender.subscribers()
    case 'stats':
      return contender.stats()
    case 'cpu': {
      const { user, system } = process.cpuUsage()
      return user + system
    }
    case 'usage': {
      const { user, system } = process.cpuUsage()
      // Bun writes to sockets with sendto, which syscw does not count.
      const count = bunRuntime() === undefined ? writeSyscalls() : Number.NaN
      return {
        cpuMicros: user + system,
        writeSyscalls: Number.isNaN(count) ? null : count,
      } satisfies ServerUsage
    }
    case 'peakRss': {
      const value = Math.max(peakRss, process.memoryUsage.rss())
      if (command.reset) peakRss = process.memoryUsage.rss()
      return value
    }
  }
}

process.on('message', (message: { id: number; command: ServerCommand }) => {
  run(message.command).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: String(error) }),
  )
})
process.on('disconnect', () => process.exit(0))
process.send?.({
  ready: true,
  port: contender.port,
  node: process.version,
  bun: bunRuntime()?.version,
} satisfies ServerMessage)
