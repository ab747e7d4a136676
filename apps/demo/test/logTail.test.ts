import { setTimeout as sleep } from 'node:timers/promises'
import { createBroker } from '@sse/core'
import { closeStreams, openStream, type ServerSentEvent } from '@sse/testing'
import { recordUnhandledRejections, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp, type DemoOptions } from '../src/app.js'
import { LogFeed } from '../src/features/logFeed.js'
import { createLogLine, renderLogLine } from '../src/features/logLine.js'
import { LogPump, MAX_LOG_RATE } from '../src/features/logPump.js'
import { flakyBroker, LOGS, postForm, seqsOf, startLogApp } from './logApp.js'

const cleanups = useCleanups()
const unhandled = recordUnhandledRejections()
afterEach(closeStreams)

function lineEvents(events: readonly ServerSentEvent[]): ServerSentEvent[] {
  return events.filter((event) => event.event === 'logs' && event.data.includes('log-line'))
}

function start(options: DemoOptions = {}) {
  return startLogApp(cleanups, 'test', options)
}

function postRate(base: string, rate: string): Promise<Response> {
  return postForm(base, '/logs/rate', { rate })
}

describe('the log', () => {
  it('renders markup in a line as text: the html tag escapes every field', () => {
    const line = { ...createLogLine('s', 1, 0), message: '<img src=x onerror=alert(1)> & "q"' }
    const markup = renderLogLine(line).toString()
    expect(markup).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;')
    expect(markup).not.toContain('<img')
  })

  it('writes the same line for the same number, of 200 to 500 bytes as HTML', () => {
    const sizes = Array.from({ length: 2000 }, (_, i) => {
      const line = createLogLine('abc123', i + 1, 1_800_000_000_000)
      expect(createLogLine('abc123', i + 1, 1_800_000_000_000)).toEqual(line)
      return Buffer.byteLength(renderLogLine(line).toString())
    })
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(200)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500)
  })

  it('keeps only the last 100 lines for the first render, however many it writes', () => {
    const feed = new LogFeed('s')
    feed.write(30, 0, 10)
    feed.write(250, 10, 20)
    feed.write(5, 20, 30)
    expect(feed.recent().map((line) => line.seq)).toEqual(
      Array.from({ length: 100 }, (_, i) => 186 + i),
    )
    expect(feed.nextSeq).toBe(286)
  })

  it('refuses a rate outside 1 to 5,000 lines/s when the app is built', async () => {
    const broker = createBroker()
    cleanups.push(() => broker.close())
    for (const rate of [0, -1, 5001, 2.5, Number.NaN]) {
      expect(() => buildApp({ broker, logRate: rate })).toThrow(RangeError)
      expect(
        () => new LogPump({ broker, feed: new LogFeed(), rate, tickMs: 25, lingerMs: 0 }),
      ).toThrow(/the log rate must be a whole number of lines\/s from 1 to 5000/)
    }
  })
})

describe('the log pump', () => {
  it('writes nothing while nobody watches, and stops once the last page has been gone for the linger time', async () => {
    const { base, feed } = await start({ logRate: 1000, logTickMs: 10, logLingerMs: 300 })
    await sleep(300)
    expect(feed.nextSeq).toBe(1)

    const stream = await openStream(`${base}${LOGS}`)
    await stream.until((event) => event.event === 'logs')
    await stream.close()
    await sleep(300 + 500)
    const stopped = feed.nextSeq
    await sleep(300)
    expect(feed.nextSeq).toBe(stopped)
    expect(stopped).toBeGreaterThan(1)
  })

  it('numbers the lines without a gap across batches, and a timer that fires late writes at most two ticks of lines', async () => {
    const { base, feed } = await start({ logRate: MAX_LOG_RATE, logTickMs: 25 })
    const stream = await openStream(`${base}${LOGS}`, { timeout: 20_000 })
    await stream.waitFor((s) => lineEvents(s.events).length >= 5)
    // The event loop is blocked for half a second: the next tick is 20 ticks late.
    const end = performance.now() + 500
    while (performance.now() < end) {
      // Busy on purpose.
    }
    const blockedAfter = lineEvents(stream.events).length
    await stream.waitFor((s) => lineEvents(s.events).length >= blockedAfter + 10)
    await stream.close()

    const batches = lineEvents(stream.events).map(seqsOf)
    const seqs = batches.flat()
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i))
    // 5,000 lines/s for two 25 ms ticks: 250 lines, never the 2,500 half a second would have made.
    expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(250)
    expect(feed.nextSeq).toBeGreaterThan(seqs.at(-1)!)
  })

  it('takes a rate from the page as a whole number from 1 to 5,000, tells every page, and answers 400 to anything else', async () => {
    const { base } = await start({ logRate: 20 })
    const stream = await openStream(`${base}${LOGS}`)
    for (const bad of [
      '',
      'fast',
      '0',
      '-5',
      '5001',
      '1e3',
      '2000.5',
      ' 20',
      '0x10',
      '99999999999',
    ]) {
      const response = await postRate(base, bad)
      expect(response.status, JSON.stringify(bad)).toBe(400)
      expect(await response.text()).toBe(
        'A rate is a whole number of lines per second from 1 to 5000.',
      )
    }
    for (const body of ['{"rate":"2000"}', 'rate=2000&rate=3000']) {
      const response = await fetch(`${base}/logs/rate`, {
        method: 'POST',
        headers: {
          'content-type': body.startsWith('{')
            ? 'application/json'
            : 'application/x-www-form-urlencoded',
        },
        body,
      })
      // JSON carries the rate as a string too; a repeated field is the last one (URLSearchParams).
      expect(response.status).toBe(204)
    }
    expect((await postRate(base, '1234')).status).toBe(204)
    const rates = await stream.until(
      (event) => event.event === 'log-rate' && event.data.includes('value="1234" selected'),
    )
    // Nothing invalid reached the pages.
    expect(rates.filter((event) => event.event === 'log-rate')).toHaveLength(3)
  })

  it('gives a page that cannot resume a marker of where the log goes on, instead of sse-reset', async () => {
    const { base, feed } = await start({ logRate: 50 })
    const stream = await openStream(`${base}${LOGS}`, { lastEventId: 'from-another-process-42' })
    const events = await stream.until((event) => event.event === 'snapshot')
    expect(events.map((event) => event.event)).toEqual(['log-rate', 'logs', 'snapshot'])
    const next = Number(/data-next-seq="(\d+)"/.exec(events[1]!.data)?.[1])
    expect(events[1]!.data).toContain('class="log-resume" data-source="test"')
    expect(next).toBeLessThanOrEqual(feed.nextSeq)
    // The live lines follow from there on.
    const [live] = lineEvents(await stream.until((event) => seqsOf(event).length > 0))
    expect(seqsOf(live!)[0]).toBe(next)
  })

  it('ends only the log streams on broker.disconnect({ tag: "topic:logs" }): each stream is tagged with its topics', async () => {
    const { base, broker } = await start()
    const logs = await openStream(`${base}${LOGS}`)
    const notes = await openStream(`${base}/events?topics=notifications`)
    expect(await broker.disconnect({ tag: 'topic:logs' })).toBe(1)
    expect(await logs.ended()).toBe('ended')
    expect(notes.state).toBe('open')
  })

  it('a client that never reads is ended at its bound, while a reading one gets every line', async () => {
    const { base, broker } = await start({ logRate: MAX_LOG_RATE })
    const reader = await openStream(`${base}${LOGS}`, { timeout: 60_000 })
    const stalled = await openStream(`${base}${LOGS}`, { record: false, timeout: 60_000 })
    stalled.pause()
    await waitFor(() => broker.stats().slowDisconnects > 0, 'the stalled client to be ended', {
      timeoutMs: 60_000,
      intervalMs: 50,
    })
    expect(broker.stats().slowDisconnects).toBe(1)
    expect(reader.state).toBe('open')
    await reader.close()
    const seqs = lineEvents(reader.events).flatMap(seqsOf)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i))
  }, 90_000)

  it('goes on through a transport outage and a closed broker with no unhandled rejection', async () => {
    const { broker, down } = flakyBroker()
    const { base, feed } = await start({ broker, logRate: 500, logTickMs: 10 })
    const stream = await openStream(`${base}${LOGS}`)
    await stream.until((event) => seqsOf(event).length > 0)
    down(true)
    const from = feed.nextSeq
    await waitFor(() => feed.nextSeq > from + 50, 'lines written during the outage')
    down(false)
    const to = feed.nextSeq
    await stream.until((event) => seqsOf(event).some((seq) => seq > to))
    // The lines written while the transport was down never reached the page: it sees the gap.
    const seqs = lineEvents(stream.events).flatMap(seqsOf)
    expect(seqs).toContain(from - 1)
    expect(seqs).toContain(to)
    expect(seqs.filter((seq) => seq >= from && seq < to)).toEqual([])
    expect(broker.stats().publishFailures).toBeGreaterThan(0)

    await broker.close()
    await sleep(100)
    expect(unhandled).toEqual([])
  })
})
