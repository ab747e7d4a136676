/// <reference lib="dom" />
import type { Server } from 'node:http'
import { type Broker, type BrokerOptions, createBroker } from '@sse/core'
import type { SSEMiddleware } from '@sse/express'
import { openStream } from '@sse/testing'
import { type Listening, listen } from '@sse/testkit'
import {
  describeInBrowser,
  eventLog,
  holdStreams,
  launchBrowser,
  openPage,
  recordEvents,
  type StreamGate,
  samePage,
  type WatchedPage,
  waitForStream,
} from '@sse/testkit/browser'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'

/** A running Express demo with a broker of the test's own. */
interface Demo {
  base: string
  broker: Broker
  sse: SSEMiddleware
  server: Listening<Server>
  /** The `Last-Event-ID` header of each `/events` request the server received. */
  lastEventIds: Array<string | undefined>
}

const running: Demo[] = []

async function startDemo(brokerOptions: BrokerOptions = {}): Promise<Demo> {
  const broker = createBroker(brokerOptions)
  const { app, sse } = buildApp({ broker, retryMs: 200 })
  const lastEventIds: Demo['lastEventIds'] = []
  const server = await listen((req, res) => {
    const header = req.headers['last-event-id']
    if (req.url?.startsWith('/events'))
      lastEventIds.push(Array.isArray(header) ? header[0] : header)
    app(req, res)
  })
  const demo = { base: server.url, broker, sse, server, lastEventIds }
  running.push(demo)
  return demo
}

afterEach(async () => {
  for (const demo of running.splice(0)) {
    await demo.sse.close()
    await demo.server.close()
    await demo.broker.close()
  }
})

async function postNote(base: string, text: string): Promise<void> {
  const response = await fetch(`${base}/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ text }),
  })
  expect(response.status).toBe(204)
}

/** The `sse-connect` URL the page was rendered with, and the broker's cursor at that moment. */
async function renderPage(demo: Demo): Promise<{ stream: string; cursor: string | undefined }> {
  const markup = await (await fetch(`${demo.base}/notifications`)).text()
  const cursor = demo.broker.cursor()
  const stream = /sse-connect="([^"]+)"/.exec(markup)?.[1]?.replaceAll('&amp;', '&')
  if (stream === undefined) throw new Error('the page has no sse-connect attribute')
  return { stream, cursor }
}

describe('the Express demo never misses a note', () => {
  it('renders the page with the broker’s cursor, and its stream starts right after it', async () => {
    const demo = await startDemo()
    await postNote(demo.base, 'N1 in the render')
    const { stream, cursor } = await renderPage(demo)
    expect(new URL(stream, demo.base).searchParams.get('lastEventId')).toBe(cursor)

    await postNote(demo.base, 'N2 before the stream')
    const client = await openStream(demo.base + stream)
    const [event] = await client.take(1)
    expect(event).toMatchObject({ event: 'notifications' })
    expect(event?.data).toContain('N2 before the stream')
    await client.close()
  })

  it('sends the list whole, then the live notes, when history no longer covers the cursor', async () => {
    const demo = await startDemo({ maxReplayEvents: 2 })
    const { stream } = await renderPage(demo)
    for (const text of ['L1', 'L2', 'L3']) await postNote(demo.base, text)

    const client = await openStream(demo.base + stream)
    const snapshot = await client.until((event) => event.event === 'snapshot')
    expect(snapshot.map((event) => event.event)).toEqual(['notes', 'snapshot'])
    const items = [...snapshot[0]!.data.matchAll(/class="note-text">([^<]*)</g)].map((m) => m[1])
    expect(items).toEqual(['L1', 'L2', 'L3'])
    expect(snapshot[0]!.data).toMatch(/^<ul id="notes" hx-swap-oob="innerHTML">/)
    // The snapshot's last event carries the cursor: the page resumes from there.
    expect(snapshot[1]!.id).toBe(demo.broker.cursor())

    await postNote(demo.base, 'L4 live')
    const [live] = await client.take(1)
    expect(live).toMatchObject({ event: 'notifications' })
    expect(live?.data).toContain('L4 live')
    await client.close()
  })
})

describeInBrowser('the Express demo in a real browser', () => {
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  const watched: WatchedPage[] = []

  beforeAll(async () => {
    browser = await launchBrowser()
  })

  afterEach(async () => {
    // A dropped stream makes htmx log the EventSource's error Event; nothing else may show up.
    const unexpected = watched
      .flatMap((page) => [...page.errors, ...page.dialogs.map((text) => `dialog: ${text}`)])
      .filter((error) => error !== 'console: [object Event]')
    watched.length = 0
    await context?.close()
    context = undefined
    expect(unexpected).toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
  })

  async function open(url: string): Promise<{ page: Page; gate: StreamGate }> {
    context = await browser!.newContext()
    const gate = await holdStreams(context)
    const opened = await openPage(context, url)
    watched.push(opened)
    await recordEvents(opened.page)
    return { page: opened.page, gate }
  }

  const notesShown = (page: Page) => page.locator('#notes .note-text').allTextContents()
  const waitForNote = (page: Page, text: string) =>
    page.locator('#notes .note-text', { hasText: text }).waitFor()

  it('shows a note published between the render and the stream connecting, once', async () => {
    const demo = await startDemo()
    await postNote(demo.base, 'R1 in the render')
    const { page, gate } = await open(`${demo.base}/notifications`)
    await gate.waitForHeld()
    const cursor = demo.broker.cursor()
    await postNote(demo.base, 'R2 while connecting')
    expect(await notesShown(page)).toEqual(['R1 in the render'])

    await gate.release()
    await waitForNote(page, 'R2 while connecting')
    await postNote(demo.base, 'R3 live')
    await waitForNote(page, 'R3 live')

    expect(await notesShown(page)).toEqual(['R1 in the render', 'R2 while connecting', 'R3 live'])
    expect(new URL(gate.held[0]!).searchParams.get('lastEventId')).toBe(cursor)
    expect(await eventLog(page)).not.toContain('snapshot')
    expect(await samePage(page)).toBe(true)
  })

  it.each([
    { when: 'before its stream first connects', dropFirst: false },
    { when: 'after its stream dropped', dropFirst: true },
  ])(
    'gets the list whole when it missed more notes than one replay carries $when, with no reload',
    async ({ dropFirst }) => {
      const demo = await startDemo({ maxReplayEvents: 2 })
      if (!dropFirst) await postNote(demo.base, 'S1')
      const { page, gate } = await open(`${demo.base}/notifications`)
      let lastSeen: string | null = null
      if (dropFirst) {
        await gate.release()
        await waitForStream(page)
        await postNote(demo.base, 'S1')
        await waitForNote(page, 'S1')
        gate.hold()
        expect(await demo.broker.disconnect({ tag: 'topic:notifications' })).toBe(1)
        lastSeen = await page.evaluate(() => {
          const url = document.querySelector('[data-resume]')!.getAttribute('sse-connect')!
          return new URL(url, window.location.href).searchParams.get('lastEventId')
        })
      }
      await gate.waitForHeld()
      for (const text of ['S2 missed', 'S3 missed', 'S4 missed']) await postNote(demo.base, text)
      await gate.release()
      await waitForNote(page, 'S4 missed')
      await postNote(demo.base, 'S5 live')
      await waitForNote(page, 'S5 live')

      expect(await notesShown(page)).toEqual([
        'S1',
        'S2 missed',
        'S3 missed',
        'S4 missed',
        'S5 live',
      ])
      expect(await eventLog(page)).toContain('snapshot')
      expect(await eventLog(page)).not.toContain('sse-reset')
      expect(await samePage(page)).toBe(true)
      if (dropFirst) {
        // The reconnect named S1, the last note the page received (sse-resume.js keeps its id in
        // the URL too); the broker could not replay the three after it.
        expect(lastSeen).not.toBeNull()
        expect(demo.lastEventIds.at(-1)).toBe(lastSeen)
      }
    },
  )
})
