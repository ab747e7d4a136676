/// <reference lib="dom" />
import type { AddressInfo } from 'node:net'
import { type Broker, type BrokerOptions, createBroker } from '@sse/core'
import { waitFor } from '@sse/testkit'
import {
  describeInBrowser,
  launchBrowser,
  openPage,
  type WatchedPage,
  waitForStream,
} from '@sse/testkit/browser'
import type { FastifyInstance } from 'fastify'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { NoteStore } from '../src/features/noteStore.js'

/**
 * What a stream that ends and comes back may print: htmx 2 logs the EventSource's error Event as
 * "[object Event]", htmx 4 logs `htmx:sse:error`, and a reconnect that finds no server shows up as
 * a refused connection.
 */
const EXPECTED_ERRORS = [/^console: \[object Event\]$/, /htmx:sse:error/, /ERR_CONNECTION_REFUSED/]

/** A page of the demo with one stream, and the tag its stream carries. */
interface LivePage {
  name: string
  path: string
  tag: string
}

const PAGES: LivePage[] = [
  { name: 'htmx 2', path: '/notifications', tag: 'topic:notifications' },
  { name: 'htmx 4', path: '/htmx4/notifications', tag: 'topic:htmx4:notifications' },
]

/** A running demo app; `restart()` stands in for a new process on the same port. */
interface Demo {
  base: string
  broker: Broker
  restart(): Promise<void>
}

/** How the server ends the page's stream, gracefully: the response ends, the page reconnects. */
interface GracefulEnd {
  name: string
  brokerOptions: BrokerOptions
  /** Whether the server ends the stream again and again (every stream's lifetime). */
  repeats: boolean
  end(demo: Demo, page: LivePage): Promise<void>
}

const ENDS: GracefulEnd[] = [
  {
    name: 'broker.disconnect() of its stream',
    brokerOptions: {},
    repeats: false,
    async end(demo, page) {
      expect(await demo.broker.disconnect({ tag: page.tag })).toBe(1)
    },
  },
  {
    name: 'the end of its lifetime (maxDuration)',
    brokerOptions: { maxDuration: 1500, maxDurationJitter: 0 },
    repeats: true,
    // The broker ends the stream by itself.
    async end() {},
  },
  {
    name: 'the server closing and a new one listening on its port',
    brokerOptions: {},
    repeats: false,
    end: (demo) => demo.restart(),
  },
]

/** Records, in the page, every value `data-sse-state` takes on the stream's element. */
async function recordStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const element = document.querySelector('[data-resume]')!
    const states = [element.getAttribute('data-sse-state') ?? '']
    Object.assign(window, { __states: states })
    new MutationObserver(() => {
      const state = element.getAttribute('data-sse-state') ?? ''
      if (state !== states.at(-1)) states.push(state)
    }).observe(element, { attributes: true, attributeFilter: ['data-sse-state'] })
  })
}

async function statesSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as { __states?: string[] }).__states ?? [])])
}

describeInBrowser('a page shows its stream reconnecting after the server ends it', () => {
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  const watched: WatchedPage[] = []
  const apps: FastifyInstance[] = []
  const brokers: Broker[] = []
  /** How many `/events` requests the demo apps received. */
  let streamRequests = 0

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
    streamRequests = 0
    expect(unexpected).toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
  })

  async function listenOn(broker: Broker, notes: NoteStore, port: number): Promise<number> {
    // `close()` ends the streams, then destroys the sockets left, as a process exit would.
    const app = buildApp({ broker, notes, retryMs: 200, forceCloseConnections: true })
    apps.push(app)
    app.addHook('onRequest', async (request) => {
      if (request.url.startsWith('/events')) streamRequests++
    })
    await app.listen({ port, host: '127.0.0.1' })
    return (app.server.address() as AddressInfo).port
  }

  /** Starts the demo on 127.0.0.1 with a broker of its own, which outlives its restarts. */
  async function startDemo(brokerOptions: BrokerOptions): Promise<Demo> {
    const broker = createBroker(brokerOptions)
    brokers.push(broker)
    const notes = new NoteStore()
    const port = await listenOn(broker, notes, 0)
    return {
      base: `http://127.0.0.1:${port}`,
      broker,
      async restart() {
        await apps.splice(0)[0]?.close()
        await listenOn(broker, notes, port)
      },
    }
  }

  async function open(url: string): Promise<Page> {
    context ??= await browser!.newContext()
    const page = await openPage(context, url)
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

  const cases = PAGES.flatMap((page) => ENDS.map((end) => ({ page, end })))

  it.each(cases)(
    'on $page.name, after $end.name, the stream state goes open → reconnecting → open and events arrive again',
    async ({ page: spec, end }) => {
      const demo = await startDemo(end.brokerOptions)
      const page = await open(demo.base + spec.path)
      await waitForStream(page)
      await recordStates(page)
      const connections = streamRequests

      await end.end(demo, spec)
      await waitFor(() => streamRequests > connections, 'the page to reconnect')
      await waitForStream(page)
      await postNote(demo.base, 'After the reconnect')
      await page.locator('#notes .note-text', { hasText: 'After the reconnect' }).waitFor()

      const states = await statesSeen(page)
      if (end.repeats) {
        // Each lifetime that ran out meanwhile is one more reconnect.
        expect(states.join(' → ')).toMatch(/^open( → reconnecting → open)+$/)
      } else {
        expect(states).toEqual(['open', 'reconnecting', 'open'])
      }
    },
  )
})
