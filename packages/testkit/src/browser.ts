/// <reference lib="dom" />
import { existsSync } from 'node:fs'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { describe } from 'vitest'
import { onCI } from './onCI.js'

// The demos' browser kit: Chromium through playwright-core, and what their htmx pages expose.

/** Debian's Chromium, installed by `.ci/run` when missing. */
export const CHROMIUM = '/usr/bin/chromium'

const hasChromium = existsSync(CHROMIUM)

if (!hasChromium && !onCI()) {
  console.warn(
    `[demo] ${CHROMIUM} not found: skipping the real-browser tests (apt-get install chromium to run them; on CI they fail instead).`,
  )
}

/**
 * `describe` for suites that need Chromium. Without it, they are skipped locally; on CI they run
 * and fail in `launchBrowser()`: a missing browser must never turn into a green run.
 */
export function describeInBrowser(name: string, body: () => void): void {
  describe.skipIf(!hasChromium && !onCI())(name, body)
}

export async function launchBrowser(): Promise<Browser> {
  if (!hasChromium) {
    throw new Error(
      `${CHROMIUM} is missing: install it (apt-get install -y chromium); CI never skips the browser tests`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** A page plus everything it reported that a test may want to assert on. */
export interface WatchedPage {
  page: Page
  /** Console errors and uncaught page errors, in order. */
  errors: string[]
  /** Messages of `alert()`/`confirm()` dialogs (dismissed at once). */
  dialogs: string[]
}

/** Opens a page that records console errors, page errors and dialogs, then goes to `url`. */
export async function openPage(context: BrowserContext, url: string): Promise<WatchedPage> {
  const page = await context.newPage()
  page.setDefaultTimeout(20_000)
  const errors: string[] = []
  const dialogs: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    dialog.dismiss().catch(() => {})
  })
  await page.goto(url)
  return { page, errors, dialogs }
}

/** Waits until the page's one SSE connection (htmx-ext-sse) is open. */
export async function waitForStream(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.querySelector('[data-resume]')?.getAttribute('data-sse-state') === 'open',
  )
}

/**
 * Starts recording, in the page, the type of every `htmx:sseMessage` (one per event an element
 * listens to) and every `htmx:sseClose`. Read them with {@link sseLog}.
 */
export async function recordSseEvents(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: string[] = []
    Object.assign(window, { __sseLog: log })
    document.addEventListener('htmx:sseMessage', (event) => {
      log.push((event as CustomEvent<MessageEvent>).detail.type)
    })
    document.addEventListener('htmx:sseClose', (event) => {
      log.push(`close:${(event as CustomEvent<{ type: string }>).detail.type}`)
    })
  })
}

export async function sseLog(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as unknown as { __sseLog?: string[] }).__sseLog ?? [])])
}

export {
  eventLog,
  holdStreams,
  recordEvents,
  type StreamGate,
  samePage,
} from './pageStreams.js'
