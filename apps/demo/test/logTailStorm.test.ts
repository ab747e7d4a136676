import { setTimeout as sleep } from 'node:timers/promises'
import { createBroker } from '@sse/core'
import { closeStreams, openStream, type ServerSentEvent } from '@sse/testing'
import { recordUnhandledRejections, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp, type DemoOptions } from '../src/app.js'
import { createStormLine, renderLogLine } from '../src/features/logLine.js'
import { LogStorm, MAX_STORM_LINES, STORM_LINES } from '../src/features/logStorm.js'
import { flakyBroker, LOGS, postForm, seqsOf, startLogApp } from './logApp.js'

const cleanups = useCleanups()
const unhandled = recordUnhandledRejections()
afterEach(closeStreams)

/** Core's default `maxBufferedBytes`: what the core before f80f08c cut a client at within one turn. */
const DEFAULT_MAX_BUFFERED = 512 * 1024

function seqsIn(events: readonly ServerSentEvent[]): number[] {
  return events.filter((event) => event.event === 'logs').flatMap(seqsOf)
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

function start(options: DemoOptions = {}) {
  // The slowest log: a storm's lines are what the streams carry.
  return startLogApp(cleanups, 'storm', { logRate: 1, ...options })
}

function postStorm(base: string, lines: string): Promise<Response> {
  return postForm(base, '/logs/storm', { lines })
}

describe('the error storm', () => {
  it('writes error lines with a stack trace, each as long as the longest normal lines', () => {
    for (let seq = 1; seq <= 2000; seq++) {
      const line = createStormLine('abc123', seq, 1_800_000_000_000)
      expect(line.level).toBe('ERROR')
      expect(line.message).toMatch(/ at PaymentsClient\.charge \(/)
      const bytes = Buffer.byteLength(renderLogLine(line).toString())
      expect(bytes).toBeGreaterThanOrEqual(380)
      expect(bytes).toBeLessThanOrEqual(500)
    }
  })

  it(`hands a reading client over ${STORM_LINES.toLocaleString('en-US')} lines (more than 1 MB, twice the default bound) in one turn, and the client gets every one, once and in order, without being cut`, async () => {
    const { base, broker, feed } = await start()
    const reader = await openStream(`${base}${LOGS}`)
    await waitFor(() => broker.subscribers('logs') === 1, 'the reader to subscribe')
    const storm = new LogStorm({ broker, feed, cooldownMs: 0 })

    const report = storm.blow(STORM_LINES)
    // Before this turn ends: every batch is published and waits for the client, all at once.
    const heldInTurn = broker.stats().bufferedBytes
    expect(broker.stats().slowDisconnects).toBe(0)

    expect(report).toMatchObject({ to: report!.from + STORM_LINES - 1, events: 30 })
    expect(report!.bytes).toBeGreaterThan(1_000_000)
    expect(heldInTurn).toBeGreaterThan(2 * DEFAULT_MAX_BUFFERED)
    await reader.waitFor((s) => seqsIn(s.events).includes(report!.to))
    const seqs = seqsIn(reader.events).filter((seq) => seq >= report!.from)
    expect(seqs).toEqual(range(report!.from, report!.to))
    expect(broker.stats().slowDisconnects).toBe(0)
    expect(reader.state).toBe('open')
  })

  it(`refuses anything but a whole number of lines from 1 to ${MAX_STORM_LINES.toLocaleString('en-US')} with a 400, and writes nothing`, async () => {
    const { base, broker, feed } = await start()
    const before = { next: feed.nextSeq, published: broker.stats().published }
    for (const bad of ['', 'many', '0', '-5', '4001', '1e3', '3000.5', ' 30', '0x10', '99999999']) {
      const response = await postStorm(base, bad)
      expect(response.status, JSON.stringify(bad)).toBe(400)
      expect(await response.text()).toBe('A storm is a whole number of lines from 1 to 4000.')
    }
    for (const [type, body] of [
      ['application/json', '{"lines":3000}'],
      ['application/json', '{"lines":["3000"]}'],
      ['application/json', 'null'],
      ['application/x-www-form-urlencoded', 'rate=3000'],
    ] as const) {
      const response = await fetch(`${base}/logs/storm`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      })
      expect(response.status, body).toBe(400)
    }
    expect(feed.nextSeq).toBe(before.next)
    expect(broker.stats().published).toBe(before.published)
    expect(() => new LogStorm({ broker, feed, cooldownMs: 0 }).blow(MAX_STORM_LINES + 1)).toThrow(
      /a storm is a whole number of lines from 1 to 4000, got 4001/,
    )
  })

  it('refuses a cooldown that is not a whole number of ms when the app is built: NaN would let every storm through', () => {
    const broker = createBroker()
    cleanups.push(() => broker.close())
    for (const cooldown of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) {
      expect(() => buildApp({ broker, logStormCooldownMs: cooldown })).toThrow(
        /the storm cooldown must be a whole number of ms, 0 or more/,
      )
    }
  })

  it('blows one storm at a time: of five posted at once, one is written and four get 429 with Retry-After, until the cooldown has passed', async () => {
    const { base, feed } = await start({ logStormCooldownMs: 1500 })
    const from = feed.nextSeq
    const responses = await Promise.all(Array.from({ length: 5 }, () => postStorm(base, '500')))
    const statuses = responses.map((response) => response.status).sort()
    expect(statuses).toEqual([200, 429, 429, 429, 429])
    const refused = responses.find((response) => response.status === 429)!
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await refused.text()).toMatch(/^A storm is blowing: the next one may start in \d s\.$/)
    const written = responses.find((response) => response.status === 200)!
    expect(await written.text()).toBe(
      `Lines ${from} to ${from + 499}: 500 errors, 0.2 MB in 5 events, published in one turn.`,
    )
    // The slow log (1 line/s) may have added a line or two, never another storm.
    expect(feed.nextSeq - from).toBeLessThan(500 + 10)

    await sleep(1600)
    expect((await postStorm(base, '1')).status).toBe(200)
  })

  it('ends a client that never reads at its bound during a storm, while a reading client gets every line of it', async () => {
    const { base, broker, feed } = await start({ logStormCooldownMs: 0 })
    const reader = await openStream(`${base}${LOGS}`)
    const stalled = await openStream(`${base}${LOGS}`, { record: false, timeout: 60_000 })
    stalled.pause()
    await waitFor(() => broker.subscribers('logs') === 2, 'both clients to subscribe')
    const first = feed.nextSeq
    // Storms until the stalled client's socket and Node's buffer are full and it falls behind by
    // more than its bound: bounded, at most 40 storms of 1.7 MB.
    let storms = 0
    for (; storms < 40 && broker.stats().slowDisconnects === 0; storms++) {
      expect((await postStorm(base, String(MAX_STORM_LINES))).status).toBe(200)
      await sleep(50)
    }
    await waitFor(() => broker.stats().slowDisconnects > 0, 'the stalled client to be ended', {
      timeoutMs: 30_000,
      intervalMs: 50,
    })
    console.info(`[storm] the stalled client was ended during storm ${storms}`)
    const last = feed.nextSeq - 1
    await reader.waitFor((s) => seqsIn(s.events).includes(last))

    expect(broker.stats().slowDisconnects).toBe(1)
    stalled.resume()
    expect(await stalled.ended()).toBe('cut')
    expect(reader.state).toBe('open')
    expect(seqsIn(reader.events).filter((seq) => seq >= first)).toEqual(range(first, last))
  }, 120_000)

  it('answers 503 naming the events the transport lost during an outage, and nothing rejects unhandled', async () => {
    const { broker, down } = flakyBroker()
    const { base } = await start({ broker, logStormCooldownMs: 0 })
    down(true)
    const response = await postStorm(base, '250')
    expect(response.status).toBe(503)
    expect(await response.text()).toBe(
      'The transport lost 3 of 3 events: the pages count their lines as missed.',
    )
    expect(broker.stats().publishFailures).toBe(3)
    down(false)
    expect((await postStorm(base, '250')).status).toBe(200)
    await sleep(100)
    expect(unhandled).toEqual([])
  })

  it('answers 503 once the broker has closed, and nothing rejects unhandled', async () => {
    const { base, broker, feed } = await start()
    await broker.close()
    const from = feed.nextSeq
    const response = await postStorm(base, '100')
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('The log has stopped.')
    expect(feed.nextSeq).toBe(from)
    await sleep(100)
    expect(unhandled).toEqual([])
  })
})
