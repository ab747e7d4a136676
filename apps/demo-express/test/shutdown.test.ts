import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bundleFromSources, useCleanups } from '@sse/testkit'
import { describeInBrowser, launchBrowser, waitForStream } from '@sse/testkit/browser'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'

const RUNS = 10
/** How long a server may take to exit after SIGTERM before it is killed (and the run fails). */
const EXIT_BOUND_MS = 5_000

// Bundled next to where `pnpm start` bundles it (one level under the app, so its assets resolve).
const serverFile = fileURLToPath(
  new URL(`../dist/shutdown-test-${process.pid}.mjs`, import.meta.url),
)
const cleanups = useCleanups()

/** Starts `src/server.ts` as `pnpm start` does, on a free port; resolves once it listens. */
async function startServer(): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, [serverFile], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'))
  const origin = await new Promise<string>((resolve, reject) => {
    let output = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      const found = /http:\/\/127\.0\.0\.1:\d+/.exec(output)
      if (found !== null) resolve(found[0])
    })
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before listening`)))
  })
  return { child, origin }
}

/** Sends SIGTERM; resolves to the exit code, or `null` if it had to be killed after the bound. */
function terminate(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS)
    child.once('exit', (code) => {
      clearTimeout(kill)
      resolve(code)
    })
    child.kill('SIGTERM')
  })
}

/** What a page does besides holding its own stream when the server stops. */
type Activity = 'reconnecting' | 'fetching'

/**
 * Keeps the page busy as pages are when a server stops, besides its own stream: an `EventSource`
 * that keeps reconnecting, or a stylesheet fetched again and again over a kept-alive connection.
 * Resolves once the loop has gone round a few times.
 */
async function keepBusy(page: Page, activity: Activity): Promise<void> {
  await page.evaluate((activity) => {
    const state = { rounds: 0 }
    Object.assign(window, { __busy: state })
    const url = document.querySelector('[sse-connect]')?.getAttribute('sse-connect') ?? '/events'
    const reconnect = (): void => {
      const source = new EventSource(url)
      source.onopen = () => state.rounds++
      setTimeout(
        () => {
          source.close()
          reconnect()
        },
        50 + Math.random() * 100,
      )
    }
    const refetch = (): void => {
      fetch(`/static/style.css?${state.rounds}`, { cache: 'no-store' })
        .then((response) => response.arrayBuffer())
        .then(() => {
          state.rounds++
          refetch()
        })
        .catch(() => {})
    }
    if (activity === 'reconnecting') reconnect()
    else refetch()
  }, activity)
  await page.waitForFunction(
    () => (window as unknown as { __busy: { rounds: number } }).__busy.rounds >= 3,
  )
}

/**
 * Opens the notifications page in a browser context of its own (its own connections), waits for
 * its stream, then {@link keepBusy keeps it busy}.
 */
async function openBusyPage(
  browser: Browser,
  origin: string,
  activity: Activity,
): Promise<BrowserContext> {
  const context = await browser.newContext()
  cleanups.push(() => context.close())
  const page = await context.newPage()
  await page.goto(`${origin}/notifications`)
  await waitForStream(page)
  await keepBusy(page, activity)
  return context
}

describeInBrowser('the Express demo on SIGTERM', () => {
  let browser: Browser | undefined

  beforeAll(async () => {
    await bundleFromSources({
      entryPoints: [fileURLToPath(new URL('../src/server.ts', import.meta.url))],
      outfile: serverFile,
    })
    browser = await launchBrowser()
  })

  afterAll(async () => {
    await browser?.close()
    rmSync(serverFile, { force: true })
  })

  test(`exits with code 0 every time, ${RUNS} runs with two pages open, one reconnecting, one fetching`, async () => {
    const codes: (number | null)[] = []
    // Each run's server starts while the previous run is under way.
    let starting = startServer()
    for (let run = 0; run < RUNS; run++) {
      const { child, origin } = await starting
      if (run + 1 < RUNS) starting = startServer()
      const contexts = await Promise.all([
        openBusyPage(browser!, origin, 'reconnecting'),
        openBusyPage(browser!, origin, 'fetching'),
      ])
      codes.push(await terminate(child))
      await Promise.all(contexts.map((context) => context.close()))
    }
    expect(codes).toEqual(Array.from({ length: RUNS }, () => 0))
  }, 90_000)
})
