/// <reference lib="dom" />
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Broker, createBroker } from '@sse/core'
import {
  describeInBrowser,
  launchBrowser,
  openPage,
  recordSseEvents,
  sseLog,
  type WatchedPage,
  waitForStream,
} from '@sse/testkit/browser'
import type { FastifyInstance } from 'fastify'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { publishNote } from '../src/features/notifications.js'

/**
 * What a dropped stream and its reconnect attempts legitimately print in the console. htmx logs
 * every `htmx:sseError` with `console.error(detail.error)`, and htmx-ext-sse puts the EventSource's
 * error Event there, so Chromium prints "[object Event]". Network errors may show up as well.
 */
const EXPECTED_ERRORS = [/^console: \[object Event\]$/, /ERR_CONNECTION_REFUSED/, /status of 503/]

interface SeenRequest {
  url: string
  lastEventIdHeader: string | undefined
}

function record(list: SeenRequest[], url: string | undefined, headers: IncomingHttpHeaders): void {
  if (url?.startsWith('/events')) {
    const header = headers['last-event-id']
    list.push({ url, lastEventIdHeader: Array.isArray(header) ? header[0] : header })
  }
}

describeInBrowser('a page catches up on what it missed while its stream was cut', () => {
  // The broker lives in the test process: each restarted app on the same port shares its history.
  const broker: Broker = createBroker()
  let port = 0
  let app: FastifyInstance | undefined
  let blocker: Server | undefined
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  let watched: WatchedPage | undefined
  /** `/events` requests the demo app received. */
  let seenByApp: SeenRequest[] = []

  async function startApp(withBroker: Broker = broker): Promise<void> {
    // `close()` ends the streams, then destroys every socket left. A plain close() waits for a
    // spare socket Chromium opened ahead of time, and the reconnect can arrive on that very socket
    // while Fastify is closing: a 503, which fails the EventSource for good (seen once in CI).
    const next = buildApp({ broker: withBroker, retryMs: 1000, forceCloseConnections: true })
    next.addHook('onRequest', async (request) =>
      record(seenByApp, request.raw.url, request.headers),
    )
    await next.listen({ port, host: '127.0.0.1' })
    port = (next.server.address() as AddressInfo).port
    app = next
  }

  async function stopApp(): Promise<void> {
    await app?.close()
    app = undefined
  }

  /** Stands in for the app on its port and answers every request with 503: a hard failure. */
  async function startBlocker(seen: SeenRequest[]): Promise<void> {
    const server = createServer((request, response) => {
      record(seen, request.url, request.headers)
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' })
      response.end('Down for maintenance')
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    blocker = server
  }

  async function stopBlocker(): Promise<void> {
    const server = blocker
    blocker = undefined
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }

  async function openNotifications(): Promise<Page> {
    context = await browser!.newContext()
    watched = await openPage(context, `http://127.0.0.1:${port}/notifications`)
    await waitForStream(watched.page)
    // Survives only if the page is never reloaded.
    await watched.page.evaluate(() => Object.assign(window, { __samePage: true }))
    return watched.page
  }

  async function notesOnPage(page: Page): Promise<string[]> {
    return page.locator('#notes .note-text').allTextContents()
  }

  beforeAll(async () => {
    await startApp()
    browser = await launchBrowser()
  })

  afterEach(async () => {
    const unexpected = (watched?.errors ?? []).filter(
      (error) => !EXPECTED_ERRORS.some((pattern) => pattern.test(error)),
    )
    const dialogs = watched?.dialogs ?? []
    watched = undefined
    await context?.close()
    context = undefined
    expect(unexpected).toEqual([])
    expect(dialogs).toEqual([])
  })

  afterAll(async () => {
    await context?.close().catch(() => {})
    await browser?.close()
    await stopBlocker()
    await stopApp()
    await broker.close()
  })

  it("through the browser's own reconnect, which sends Last-Event-ID", async () => {
    const page = await openNotifications()
    await publishNote(broker, 'A: before the cut')
    await page.locator('#notes .note-text', { hasText: 'A: before the cut' }).waitFor()

    // Stop the server: the page's stream ends. Events keep being published meanwhile.
    await stopApp()
    await publishNote(broker, 'A: missed 1')
    await publishNote(broker, 'A: missed 2')
    seenByApp = []
    await startApp()

    await page.locator('#notes .note-text', { hasText: 'A: missed 2' }).waitFor()
    await publishNote(broker, 'A: live again')
    await page.locator('#notes .note-text', { hasText: 'A: live again' }).waitFor()

    const notes = (await notesOnPage(page)).filter((text) => text.startsWith('A: '))
    expect(notes).toEqual(['A: before the cut', 'A: missed 1', 'A: missed 2', 'A: live again'])
    expect(await page.evaluate(() => (window as { __samePage?: boolean }).__samePage)).toBe(true)
    // The same EventSource came back by itself and named the last event it had seen.
    expect(seenByApp[0]?.lastEventIdHeader).toMatch(/.+/)
  }, 60_000)

  it("through htmx-ext-sse's new EventSource after a 503, with the lastEventId query parameter", async () => {
    const page = await openNotifications()
    await publishNote(broker, 'B: before the cut')
    await page.locator('#notes .note-text', { hasText: 'B: before the cut' }).waitFor()
    // app.js keeps the sse-connect URL's lastEventId at the last event seen.
    const connect = await page.getAttribute('[data-resume]', 'sse-connect')
    expect(new URL(connect!, 'http://x').searchParams.get('lastEventId')).toMatch(/.+/)

    // A hard failure: the port answers 503, so the EventSource gives up for good and
    // htmx-ext-sse starts creating new ones from the sse-connect attribute.
    const seenByBlocker: SeenRequest[] = []
    await stopApp()
    await startBlocker(seenByBlocker)
    await publishNote(broker, 'B: missed 1')
    // Wait until htmx-ext-sse's own EventSource (no header: it is new) has been turned away too.
    await expect
      .poll(() => seenByBlocker.some((request) => request.lastEventIdHeader === undefined), {
        timeout: 20_000,
      })
      .toBe(true)
    await publishNote(broker, 'B: missed 2')
    seenByApp = []
    await stopBlocker()
    await startApp()

    await page.locator('#notes .note-text', { hasText: 'B: missed 2' }).waitFor()
    await publishNote(broker, 'B: live again')
    await page.locator('#notes .note-text', { hasText: 'B: live again' }).waitFor()

    const notes = (await notesOnPage(page)).filter((text) => text.startsWith('B: '))
    expect(notes).toEqual(['B: before the cut', 'B: missed 1', 'B: missed 2', 'B: live again'])
    expect(await page.evaluate(() => (window as { __samePage?: boolean }).__samePage)).toBe(true)
    // A fresh EventSource cannot send Last-Event-ID: the id came in the URL instead.
    const resumed = seenByApp[0]
    expect(resumed?.lastEventIdHeader).toBeUndefined()
    expect(new URL(resumed!.url, 'http://x').searchParams.get('lastEventId')).toMatch(/.+/)
    expect(await page.getAttribute('[data-resume]', 'data-sse-state')).toBe('open')
  }, 60_000)

  it('after a restart that lost the history, the page gets a snapshot of the notes on its stream', async () => {
    const page = await openNotifications()
    await recordSseEvents(page)
    await publishNote(broker, 'C: before the restart')
    await page.locator('#notes .note-text', { hasText: 'C: before the restart' }).waitFor()

    // A new process: a fresh in-memory broker that has never seen the page's Last-Event-ID.
    const fresh = createBroker()
    try {
      await stopApp()
      await startApp(fresh)
      const posted = await fetch(`http://127.0.0.1:${port}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ text: 'C: after the restart' }),
      })
      expect(posted.status).toBe(204)

      // Instead of `sse-reset`, the stream sends the new server's notes (a `notes` snapshot event):
      // they replace the old list, whether the new note came live or with the snapshot.
      await page.locator('#notes .note-text', { hasText: 'C: after the restart' }).waitFor()
      await page
        .locator('#notes .note-text', { hasText: 'C: before the restart' })
        .waitFor({ state: 'detached' })
      expect(await notesOnPage(page)).toEqual(['C: after the restart'])
      expect(await sseLog(page)).toContain('notes')
      expect(await sseLog(page)).not.toContain('sse-reset')
      expect(await page.evaluate(() => (window as { __samePage?: boolean }).__samePage)).toBe(true)
    } finally {
      await stopApp()
      await fresh.close()
      await startApp()
    }
  }, 60_000)
})
