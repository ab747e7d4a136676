/// <reference lib="dom" />
import type { BrowserContext, Page, Route } from 'playwright-core'
import { waitFor } from './waitFor.js'

// What gap-free page tests watch in a browser: the page's stream requests, held while a test
// publishes, and the events htmx hands over.

/** Holds the page streams' requests (`/events?...`) of a browser context until `release()`. */
export interface StreamGate {
  /** URLs of the requests held so far. */
  readonly held: string[]
  /** Resolves once a request is held. */
  waitForHeld(): Promise<void>
  /** Lets the held requests and every later one through. */
  release(): Promise<void>
  /** Holds the next requests again, from an empty `held`. */
  hold(): void
}

/** Holds every `/events` request of `context` while closed, so a test can publish meanwhile. */
export async function holdStreams(context: BrowserContext): Promise<StreamGate> {
  const waiting: Route[] = []
  const held: string[] = []
  let open = false
  await context.route(
    (url) => url.pathname === '/events',
    async (route, request) => {
      if (open) return route.continue()
      held.push(request.url())
      waiting.push(route)
    },
  )
  return {
    held,
    waitForHeld: () => waitFor(() => held.length > 0, 'a held stream request'),
    async release() {
      open = true
      for (const route of waiting.splice(0)) await route.continue()
    },
    hold() {
      open = false
      held.length = 0
    },
  }
}

/**
 * Records the name of every event the page's htmx hands over (htmx 2 and htmx 4), read with
 * {@link eventLog}, and marks the page so {@link samePage} can tell a reload.
 */
export async function recordEvents(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: string[] = []
    Object.assign(window, { __events: log, __samePage: true })
    document.addEventListener('htmx:sseMessage', (event) => {
      log.push((event as CustomEvent<MessageEvent>).detail.type)
    })
    document.addEventListener('htmx:sse:after:message', (event) => {
      const { message } = (event as CustomEvent<{ message: { event: string } }>).detail
      log.push(message.event || 'message')
    })
  })
}

/** The events {@link recordEvents} recorded so far. */
export async function eventLog(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as { __events?: string[] }).__events ?? [])])
}

/** Whether the page is the one {@link recordEvents} marked: a reload would have lost the mark. */
export async function samePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as { __samePage?: boolean }).__samePage === true)
}
