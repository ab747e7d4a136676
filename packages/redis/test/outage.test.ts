import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type IsolatedRun, runIsolated, useCleanups, waitFor } from '@sse/testkit'
import { startRedis } from '@sse/testkit/redisServer'
import { Redis } from 'ioredis'
import { describe, expect, test } from 'vitest'
import { PartitionLayout } from '../src/partitioned/partitionLayout.js'
import { hasRedis, uniquePrefix } from './helpers.js'

/**
 * A publisher as an app would write one: it publishes every 5 ms and ignores the promises, with no
 * `process.on('unhandledRejection')` handler. It appends its counters to `PROGRESS` after each tick
 * and stops by itself once 50 publishes succeeded after the first failure (or after 4000 ticks),
 * closes the broker, lets the process end and prints what it saw as JSON.
 */
const PUBLISHER = `
import { appendFileSync } from 'node:fs'
import { createBroker } from '@sse/core'
import { redisTransport } from '@sse/redis'

const progress = process.env.PROGRESS!
const errors: Array<{ code: string; message: string }> = []
const broker = createBroker({
  transport: redisTransport({
    url: process.env.REDIS_URL,
    keyPrefix: process.env.KEY_PREFIX,
    ...(process.env.PARTITIONS ? { partitions: Number(process.env.PARTITIONS) } : {}),
  }),
  keepAlive: 0,
  onError: (error) => {
    errors.push({ code: error.code, message: error.message })
  },
})
await broker.ready

let ticks = 0
let publishedBeforeOutage: number | undefined
const timer = setInterval(() => {
  ticks++
  broker.publish(['jobs', 'mail', 'audit'][ticks % 3], 'tick ' + ticks)
  const { published, publishFailures: failures } = broker.stats()
  if (failures > 0) publishedBeforeOutage ??= published
  appendFileSync(progress, JSON.stringify({ ticks, published, failures }) + '\\n')
  if ((publishedBeforeOutage !== undefined && published - publishedBeforeOutage >= 50) || ticks >= 4000) {
    clearInterval(timer)
    // Closing waits for the publishes in flight: every tick is then counted one way or the other.
    broker.close().then(() => {
      const { published, publishFailures: failures } = broker.stats()
      const publishedAfterOutage = published - (publishedBeforeOutage ?? published)
      console.log(JSON.stringify({ ticks, published, failures, publishedAfterOutage, errors }))
    })
  }
}, 5)
`

interface Progress {
  ticks: number
  published: number
  failures: number
}

interface Outcome extends Progress {
  publishedAfterOutage: number
  /** What `onError` received, in order. */
  errors: Array<{ code: string; message: string }>
}

/** The last complete line the publisher appended, if any. */
function lastProgress(file: string): Progress | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const lines = text.split('\n')
  const last = lines[lines.length - 2]
  return last === undefined ? undefined : (JSON.parse(last) as Progress)
}

describe.runIf(hasRedis)('publishing through a Redis outage', () => {
  const cleanups = useCleanups()

  test('a publisher that ignores its promises runs through Redis being killed and restarted without an unhandled rejection, hears of the outage once, and publishes again', async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const dir = mkdtempSync(join(tmpdir(), 'sse-outage-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))

    // Three runs on the single stream, one on the partitioned layout.
    for (const [run, partitions] of [undefined, undefined, undefined, 3].entries()) {
      const keyPrefix = uniquePrefix()
      const progress = join(dir, `progress-${run}.jsonl`)
      let finished: IsolatedRun | Error | undefined
      const running = runIsolated(PUBLISHER, {
        env: {
          REDIS_URL: redis.url,
          KEY_PREFIX: keyPrefix,
          PROGRESS: progress,
          PARTITIONS: partitions === undefined ? '' : String(partitions),
        },
        timeoutMs: 40_000,
        from: 'redis',
      })
      running.then(
        (result) => {
          finished = result
        },
        (error: Error) => {
          finished = error
        },
      )
      /** Waits (about 20 s at most) until the publisher's counters satisfy `predicate`. */
      const until = (predicate: (progress: Progress) => boolean, what: string) =>
        waitFor(
          () => {
            const current = lastProgress(progress)
            if (current !== undefined && predicate(current)) return true
            if (finished instanceof Error) throw finished
            if (finished !== undefined) {
              throw new Error(`the publisher exited before ${what}: ${JSON.stringify(finished)}`)
            }
            return false
          },
          what,
          { timeoutMs: 20_000, intervalMs: 10 },
        )

      await until((x) => x.published >= 20, 'publishing')
      await redis.kill()
      await until((x) => x.failures >= 10, 'publishes to fail')
      await redis.restart()
      const { code, stdout, stderr } = await running

      // An unhandled rejection would print the error here and exit with code 1.
      expect(stderr).toBe('')
      expect(code).toBe(0)
      const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as Outcome
      expect(outcome.failures).toBeGreaterThanOrEqual(10)
      expect(outcome.publishedAfterOutage).toBeGreaterThanOrEqual(50)
      expect(outcome.published + outcome.failures).toBe(outcome.ticks)
      // Redis came back empty: the streams hold exactly the events published since.
      const admin = new Redis(redis.url)
      if (partitions === undefined) {
        expect(await admin.xlen(`${keyPrefix}:events`)).toBe(outcome.publishedAfterOutage)
      } else {
        const layout = new PartitionLayout(keyPrefix, partitions)
        const lengths = await Promise.all(
          ['jobs', 'mail', 'audit'].map((topic) =>
            admin.xlen(layout.keys(layout.partitionOf(topic)).topic(topic)),
          ),
        )
        expect(lengths.reduce((a, b) => a + b)).toBe(outcome.publishedAfterOutage)
      }
      await admin.quit()

      // One report for all the failed publishes; the reader reports its lost connection, and,
      // since Redis restarted empty, that the last entry it read is gone.
      const reports = outcome.errors.map(({ code, message }) => {
        if (/was not published|publish failed/.test(message)) return `publish: ${code}`
        if (/lost the connection/.test(message)) return `reader, connection lost: ${code}`
        if (/no longer holds/.test(message)) return `reader, data lost: ${code}`
        return `${code}: ${message}`
      })
      // The partitioned layout reads nothing here: no stream wants a topic.
      expect(reports.sort()).toEqual(
        partitions === undefined
          ? [
              'publish: TRANSPORT_UNAVAILABLE',
              'reader, connection lost: TRANSPORT_UNAVAILABLE',
              'reader, data lost: TRANSPORT_ERROR',
            ]
          : ['publish: TRANSPORT_UNAVAILABLE'],
      )
    }
  }, 90_000)
})
