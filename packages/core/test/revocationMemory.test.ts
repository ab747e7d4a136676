import { connect, constants } from 'node:http2'
import { createBroker, MAX_TAG_LENGTH, MAX_TAGS_PER_STREAM } from '@sse/core'
import { heldAfterGc, httpRequests, listenH2, openSocket, useCleanups, waitFor } from '@sse/testkit'
import { expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const KiB = 1024
const MiB = 1024 * KiB

const cleanups = useCleanups()

/** The most a stream may carry: 16 tags of 256 characters, unique to request `n`. */
function largestTags(n: string): string[] {
  return Array.from({ length: MAX_TAGS_PER_STREAM }, (_, k) =>
    `${k}:${n}:`.padEnd(MAX_TAG_LENGTH, 'x'),
  )
}

test('after 20,000 streams with 16 unique 256-character tags and a pending maxDuration came and went, no tag, deadline or stream remains and the heap returns near baseline', async () => {
  const broker = createBroker({ keepAlive: 0, maxDuration: 3_600_000 })
  const server = await listenH2((req, res) => {
    broker.stream(req, res, { topics: ['cycle'], tags: largestTags(req.url) })
  })
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  let session = connect(server.url)
  let resets = 0
  const cycle = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': `/${i}` })
      stream.on('response', () => stream.close(constants.NGHTTP2_CANCEL))
      stream.on('close', resolve)
      stream.on('error', reject)
    })
  async function run(from: number, to: number) {
    for (let i = from; i < to; i += 100) {
      // Node's HTTP/2 rapid-reset protection allows about 1,000 client resets per session: rotate.
      resets += 100
      if (resets > 900) {
        session.close()
        session = connect(server.url)
        resets = 100
      }
      await Promise.all(Array.from({ length: 100 }, (_, k) => cycle(i + k)))
    }
    await waitFor(() => broker.stats().streams === 0, 'every stream to be closed', {
      intervalMs: 2,
    })
  }
  await run(0, 2000) // warm up before taking the baseline
  const baseline = heldAfterGc()
  await run(2000, 20_000)
  const growth = heldAfterGc() - baseline
  session.close()
  console.log(`20,000 tagged streams later: ${(growth / MiB).toFixed(2)} MiB held`)
  // Leaked, their tags alone would hold over 80 MB.
  expect(growth).toBeLessThan(4 * MiB)
  await expect(broker.disconnect({ tags: largestTags('/19999') })).resolves.toBe(0)
  expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, revoked: 0, rotated: 0 })
}, 180_000)

test('2,000 open streams carrying 16 tags of 256 characters cost their tag index at most 1 KiB per stream beyond the tags themselves', async () => {
  const count = 2000
  async function openStreams(tagged: boolean): Promise<number> {
    const { broker, url } = await serveBroker(cleanups, {}, (broker, req, res) => {
      broker.stream(req, res, { topics: ['t'], ...(tagged && { tags: largestTags(req.url!) }) })
    })
    const before = heldAfterGc()
    for (let i = 0; i < count; i++) openSocket(cleanups, url, httpRequests(1, 'GET', `/${i}`))
    await waitFor(() => broker.stats().streams === count, `${count} streams`, {
      timeoutMs: 20_000,
    })
    const perStream = (heldAfterGc() - before) / count
    await broker.close()
    return perStream
  }
  await openStreams(false) // warm up: Node keeps parsers and sockets' bookkeeping for reuse
  const plain = await openStreams(false)
  const tagged = await openStreams(true)
  // Strings of 256 one-byte characters: the tags a request carries, whoever holds them.
  const tagStrings = MAX_TAGS_PER_STREAM * (MAX_TAG_LENGTH + 16)
  const index = tagged - plain - tagStrings
  console.log(
    `per stream: ${(plain / KiB).toFixed(1)} KiB untagged, ${(tagged / KiB).toFixed(1)} KiB with 16 tags of 256 characters (${(index / KiB).toFixed(2)} KiB beyond the strings)`,
  )
  expect(index).toBeLessThan(1 * KiB)
}, 120_000)
