/// <reference lib="dom" />
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { AddressInfo } from 'node:net'
import { type Broker, createBroker, type SSEError } from '@sse/core'
import {
  describeInBrowser,
  eventLog,
  holdStreams,
  launchBrowser,
  openPage,
  recordEvents,
  samePage,
  type WatchedPage,
  waitForStream,
} from '@sse/testkit/browser'
import type { FastifyInstance } from 'fastify'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { GameStore } from '../src/features/gameStore.js'
import { NoteStore } from '../src/features/noteStore.js'
import { publishNote } from '../src/features/notifications.js'

/**
 * What a dropped stream legitimately prints: htmx 2 logs the EventSource's error Event as
 * "[object Event]", htmx 4 logs `htmx:sse:error`, and a refused connection shows up as such.
 */
const EXPECTED_ERRORS = [/^console: \[object Event\]$/, /htmx:sse:error/, /ERR_CONNECTION_REFUSED/]

/** A page whose list of notes is live, and how it orders them. */
interface NotesPage {
  name: string
  path: string
  /** The list's items. */
  items: string
  newestFirst: boolean
}

const NOTIFICATIONS: NotesPage = {
  name: 'the notifications page (htmx 2)',
  path: '/notifications',
  items: '#notes .note-text',
  newestFirst: false,
}
const HTMX4: NotesPage = {
  name: 'the htmx 4 page',
  path: '/htmx4/notifications',
  items: '#notes .note-text',
  newestFirst: false,
}
const DASHBOARD: NotesPage = {
  name: "the dashboard's feed",
  path: '/',
  items: '#feed .note-text',
  newestFirst: true,
}

describeInBrowser('pages that never miss an event', () => {
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  const watched: WatchedPage[] = []
  const apps: FastifyInstance[] = []
  const brokers: Broker[] = []
  /** `/events` requests the demo apps received, with their `Last-Event-ID` header. */
  const streamRequests: Array<{ url: string; lastEventId: string | undefined }> = []

  beforeAll(async () => {
    browser = await launchBrowser()
  })

  afterEach(async () => {
    const unexpected = watched
      .flatMap((page) => [...page.errors, ...page.dialogs.map((text) => `dialog: ${text}`)])
      .filter((error) => !EXPECTED_ERRORS.some((pattern) => pattern.test(error)))
    watched.length = 0
    await context?.close()
    context = undefined
    for (const app of apps.splice(0)) await app.close()
    for (const broker of brokers.splice(0)) await broker.close()
    streamRequests.length = 0
    expect(unexpected).toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
  })

  /** Starts the demo on 127.0.0.1: on an ephemeral port, or on `port` to stand in for a restart. */
  async function startDemo(
    options: { port?: number; broker?: Broker; notes?: NoteStore; games?: GameStore } = {},
  ): Promise<{ app: FastifyInstance; base: string; port: number }> {
    const { port = 0, ...rest } = options
    // `close()` ends the streams, then destroys every socket left, as a process exit would. Among
    // them may be a spare socket Chromium opened without sending a request yet: Node counts it as
    // busy until its headers time out, so a plain close() would wait for it for tens of seconds.
    const app = buildApp({
      ...rest,
      retryMs: 200,
      dashboardIntervalMs: 60_000,
      forceCloseConnections: true,
    })
    apps.push(app)
    app.addHook('onRequest', async (request) => {
      const header = request.headers['last-event-id']
      if (request.url.startsWith('/events')) {
        streamRequests.push({
          url: request.url,
          lastEventId: Array.isArray(header) ? header[0] : header,
        })
      }
    })
    await app.listen({ port, host: '127.0.0.1' })
    const actual = (app.server.address() as AddressInfo).port
    return { app, base: `http://127.0.0.1:${actual}`, port: actual }
  }

  /** Stops an app the way a process exit would: its streams end, its port is free. */
  async function stopDemo(app: FastifyInstance): Promise<void> {
    apps.splice(apps.indexOf(app), 1)
    await app.close()
  }

  function trackBroker(broker: Broker): Broker {
    brokers.push(broker)
    return broker
  }

  async function newContext(): Promise<BrowserContext> {
    context = await browser!.newContext({ viewport: { width: 1280, height: 860 } })
    return context
  }

  async function open(url: string): Promise<Page> {
    const page = await openPage(context ?? (await newContext()), url)
    watched.push(page)
    return page.page
  }

  async function postNote(base: string, text: string): Promise<void> {
    const response = await fetch(`${base}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text }),
    })
    expect(response.status).toBe(204)
  }

  /** The notes a page shows, oldest first whatever order its list uses. */
  async function notesShown(page: Page, spec: NotesPage): Promise<string[]> {
    const texts = await page.locator(spec.items).allTextContents()
    return spec.newestFirst ? texts.reverse() : texts
  }

  async function waitForNote(page: Page, spec: NotesPage, text: string): Promise<void> {
    await page.locator(spec.items, { hasText: text }).waitFor()
  }

  it.each([NOTIFICATIONS, HTMX4, DASHBOARD])(
    '$name shows every note published between its first render and its stream connecting, once, in order',
    async (spec) => {
      const { app, base } = await startDemo()
      await postNote(base, 'R1 in the first render')
      const gate = await holdStreams(await newContext())
      const page = await open(base + spec.path)
      await recordEvents(page)
      await gate.waitForHeld()
      const cursor = app.broker.cursor()

      for (const text of ['R2 while connecting', 'R3 while connecting', 'R4 while connecting']) {
        await postNote(base, text)
      }
      expect(await notesShown(page, spec)).toEqual(['R1 in the first render'])
      await gate.release()
      await waitForNote(page, spec, 'R4 while connecting')
      await postNote(base, 'R5 live')
      await waitForNote(page, spec, 'R5 live')

      expect(await notesShown(page, spec)).toEqual([
        'R1 in the first render',
        'R2 while connecting',
        'R3 while connecting',
        'R4 while connecting',
        'R5 live',
      ])
      // The stream started at the cursor the page was rendered with: a replay, not a snapshot.
      expect(new URL(gate.held[0]!).searchParams.get('lastEventId')).toBe(cursor)
      expect(await eventLog(page)).not.toContain('snapshot')
      expect(await samePage(page)).toBe(true)
    },
  )

  it.each([
    {
      cause: 'a restart with a new broker (its id is unknown)',
      newBroker: true,
      page: NOTIFICATIONS,
    },
    {
      cause: 'more missed events than one replay may carry',
      newBroker: false,
      page: NOTIFICATIONS,
    },
    { cause: 'a restart with a new broker (its id is unknown)', newBroker: true, page: HTMX4 },
    { cause: 'more missed events than one replay may carry', newBroker: false, page: HTMX4 },
  ])(
    '$page.name that cannot resume after $cause gets a snapshot: every note once, in order, no reload',
    async ({ newBroker, page: spec }) => {
      // The notes outlive the process, as in a database; the broker keeps no more than 2 per replay.
      const notes = new NoteStore()
      const first = trackBroker(createBroker({ maxReplayEvents: 2 }))
      const before = await startDemo({ broker: first, notes })
      const page = await open(before.base + spec.path)
      await waitForStream(page)
      await recordEvents(page)
      await postNote(before.base, 'S1 live')
      await postNote(before.base, 'S2 live')
      await waitForNote(page, spec, 'S2 live')
      // sse-resume.js keeps the id of the last event the page received in its stream URL.
      const lastSeen = await page.evaluate(() => {
        const element = document.querySelector('[data-resume]')!
        const url = element.getAttribute('sse-connect') ?? element.getAttribute('hx-sse:connect')
        return new URL(url!, window.location.href).searchParams.get('lastEventId')
      })

      // The stream drops; the page's reconnect is held until the test lets it through.
      const gate = await holdStreams(context!)
      await stopDemo(before.app)
      for (const text of ['S3 while down', 'S4 while down', 'S5 while down']) {
        await publishNote(first, text, notes)
      }
      const broker = newBroker ? trackBroker(createBroker()) : first
      const after = await startDemo({ port: before.port, broker, notes })
      await gate.waitForHeld()
      await postNote(after.base, 'S6 while reconnecting')
      await postNote(after.base, 'S7 while reconnecting')

      // The moment the snapshot is on the stream, two more notes: live events right behind it.
      const behindSnapshot = (message: unknown) => {
        const replay = message as { broker: Broker; snapshot?: boolean }
        if (replay.broker !== broker || replay.snapshot !== true) return
        unsubscribe('sse:replay', behindSnapshot)
        void publishNote(broker, 'S8 right behind the snapshot', notes)
        void publishNote(broker, 'S9 right behind the snapshot', notes)
      }
      subscribe('sse:replay', behindSnapshot)
      try {
        await gate.release()
        await waitForNote(page, spec, 'S9 right behind the snapshot')
      } finally {
        unsubscribe('sse:replay', behindSnapshot)
      }
      await postNote(after.base, 'S10 live')
      await waitForNote(page, spec, 'S10 live')

      expect(await notesShown(page, spec)).toEqual([
        'S1 live',
        'S2 live',
        'S3 while down',
        'S4 while down',
        'S5 while down',
        'S6 while reconnecting',
        'S7 while reconnecting',
        'S8 right behind the snapshot',
        'S9 right behind the snapshot',
        'S10 live',
      ])
      const log = await eventLog(page)
      expect(log).toContain('snapshot')
      expect(log).not.toContain('sse-reset')
      // The reconnect named the last event the page had (S2's); the broker could not resume from it.
      expect(streamRequests.at(-1)?.lastEventId).toBe(lastSeen)
      expect(await samePage(page)).toBe(true)
      expect(await page.getAttribute('[data-resume]', 'data-sse-state')).toBe('open')
    },
  )

  it("the dashboard's feed, after a restart, shows the newest five notes once, newest first", async () => {
    const notes = new NoteStore()
    const before = await startDemo({ broker: trackBroker(createBroker()), notes })
    const page = await open(before.base + DASHBOARD.path)
    await waitForStream(page)
    await recordEvents(page)
    await postNote(before.base, 'D1 live')
    await waitForNote(page, DASHBOARD, 'D1 live')

    const gate = await holdStreams(context!)
    await stopDemo(before.app)
    const broker = trackBroker(createBroker())
    const after = await startDemo({ port: before.port, broker, notes })
    await gate.waitForHeld()
    for (const text of ['D2', 'D3', 'D4', 'D5', 'D6', 'D7']) await postNote(after.base, text)
    await gate.release()
    await waitForNote(page, DASHBOARD, 'D7')
    await postNote(after.base, 'D8 live')
    await waitForNote(page, DASHBOARD, 'D8 live')

    expect(await notesShown(page, DASHBOARD)).toEqual(['D3', 'D4', 'D5', 'D6', 'D7', 'D8 live'])
    expect(await samePage(page)).toBe(true)
  })

  it('the Alpine island and the refresh-mode partial show the server’s state after a snapshot', async () => {
    const games = new GameStore()
    const before = await startDemo({ broker: trackBroker(createBroker()), games })
    const page = await open(`${before.base}/games/1`)
    await waitForStream(page)
    await recordEvents(page)
    await page.click('[data-score=home]')
    await expect.poll(() => page.textContent('#state-mode [data-team=home]')).toBe('1')
    const requests: string[] = []
    page.on('request', (request) => requests.push(new URL(request.url()).pathname))

    const gate = await holdStreams(context!)
    await stopDemo(before.app)
    games.score('1', 'away')
    games.score('1', 'away')
    const after = await startDemo({
      port: before.port,
      broker: trackBroker(createBroker()),
      games,
    })
    await gate.waitForHeld()
    // Scores the page's own stream has not heard of: they reach it in the snapshot.
    for (const action of ['home', 'away', 'home']) {
      const response = await fetch(`${after.base}/games/1/score/${action}`, { method: 'POST' })
      expect(response.status).toBe(204)
    }
    await gate.release()
    await expect.poll(async () => (await eventLog(page)).includes('snapshot')).toBe(true)

    const server = await (await fetch(`${after.base}/games/1/state`)).json()
    expect(server).toMatchObject({ home: { score: 3 }, away: { score: 3 }, last: 'home' })
    const island = () =>
      page.evaluate(() => {
        const alpine = (window as unknown as { Alpine: { $data(el: Element): object } }).Alpine
        return JSON.parse(JSON.stringify(alpine.$data(document.querySelector('#state-mode')!)))
      })
    expect(await island()).toEqual(server)
    for (const mode of ['state-mode', 'refresh-mode']) {
      expect(await page.textContent(`#${mode} [data-team=home]`)).toBe('3')
      expect(await page.textContent(`#${mode} [data-team=away]`)).toBe('3')
    }
    // Nothing was fetched to get there: the state came on the stream.
    expect(requests.filter((path) => path.startsWith('/games/'))).toEqual([])
    expect(await samePage(page)).toBe(true)

    // And it stays live.
    await page.click('[data-score=away]')
    await expect.poll(() => page.textContent('#state-mode [data-team=away]')).toBe('4')
    await expect.poll(() => page.textContent('#refresh-mode [data-team=away]')).toBe('4')
    expect(await island()).toEqual(await (await fetch(`${after.base}/games/1/state`)).json())
  })

  it('goes live on htmx 4 even when the hx-sse extension arrives 300 ms late', async () => {
    const { base } = await startDemo()
    await newContext()
    let delayed = 0
    await context!.route('**/vendor/htmx4/ext/hx-sse.js', async (route) => {
      delayed++
      await new Promise((resolve) => setTimeout(resolve, 300))
      await route.continue()
    })
    const page = await open(base + HTMX4.path)
    await waitForStream(page)
    await postNote(base, 'Late extension, live page')
    await waitForNote(page, HTMX4, 'Late extension, live page')
    expect(delayed).toBe(1)
    expect(
      await page
        .locator('.live-label')
        .evaluate((label) => getComputedStyle(label, '::after').content),
    ).toBe('"live"')
  })

  it.each([NOTIFICATIONS, HTMX4])(
    '$name falls back to one reload when the snapshot fails, and shows every note once',
    async (spec) => {
      // A store whose next read throws, to make the snapshot fail once.
      class FailingOnce extends NoteStore {
        armed = false
        override latest(count?: number) {
          if (this.armed) {
            this.armed = false
            throw new Error('the store is unavailable')
          }
          return super.latest(count)
        }
      }
      const notes = new FailingOnce()
      const errors: SSEError[] = []
      const before = await startDemo({ broker: trackBroker(createBroker()), notes })
      const page = await open(before.base + spec.path)
      await waitForStream(page)
      await recordEvents(page)
      await postNote(before.base, 'F1 live')
      await waitForNote(page, spec, 'F1 live')

      const gate = await holdStreams(context!)
      await stopDemo(before.app)
      const broker = trackBroker(createBroker({ onError: (error) => errors.push(error) }))
      const after = await startDemo({ port: before.port, broker, notes })
      await gate.waitForHeld()
      await postNote(after.base, 'F2 while reconnecting')
      notes.armed = true
      const reloaded = page.waitForEvent('load')
      await gate.release()
      await reloaded
      await waitForNote(page, spec, 'F2 while reconnecting')
      await waitForStream(page)
      await postNote(after.base, 'F3 live')
      await waitForNote(page, spec, 'F3 live')

      expect(await notesShown(page, spec)).toEqual(['F1 live', 'F2 while reconnecting', 'F3 live'])
      expect(errors.map((error) => error.code)).toEqual(['SNAPSHOT_FAILED'])
      expect(await samePage(page)).toBe(false)
    },
  )
})
