/// <reference lib="dom" />
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
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
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { assistantReply, tokenize } from '../src/features/chat.js'

/**
 * The README's screenshot. The dashboard test always takes it, in memory; it writes this tracked
 * file only when asked: `SCREENSHOT=1 npx vitest run --config vitest.workspace.ts --project demo`.
 */
const SCREENSHOT = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url))
const WRITE_SCREENSHOT = process.env.SCREENSHOT === '1'
/** The eight bytes every PNG file starts with. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const XSS = '<img src=x onerror=alert(1)>'

describeInBrowser('the demo in a real browser', () => {
  let app: FastifyInstance | undefined
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  let base = ''
  const pages: WatchedPage[] = []

  beforeAll(async () => {
    app = buildApp({ dashboardIntervalMs: 200, jobStepMs: 50, tokenDelayMs: 5 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    browser = await launchBrowser()
  })

  afterEach(async () => {
    // Every page of every test: no console error, no page error, no alert.
    const reported = pages.flatMap((watched) => [...watched.errors, ...watched.dialogs])
    pages.length = 0
    await context?.close()
    context = undefined
    expect(reported).toEqual([])
  })

  afterAll(async () => {
    await context?.close().catch(() => {})
    await browser?.close()
    await app?.close()
  })

  async function open(path: string): Promise<WatchedPage> {
    context ??= await browser!.newContext({ viewport: { width: 1280, height: 860 } })
    const watched = await openPage(context, base + path)
    pages.push(watched)
    return watched
  }

  async function postNote(text: string): Promise<void> {
    const response = await fetch(`${base}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text }),
    })
    expect(response.status).toBe(204)
  }

  it('the dashboard updates the live CPU, memory, event-loop and stream cards and their sparklines', async () => {
    const { page } = await open('/')
    await waitForStream(page)
    const seq = Number(await page.getAttribute('#system .metrics', 'data-seq'))
    // Three fresh samples pushed over the stream, each one a new fragment.
    await page.waitForFunction(
      (first) =>
        Number(document.querySelector('#system .metrics')?.getAttribute('data-seq')) >= first + 3,
      seq,
    )
    await expect.poll(() => page.textContent('[data-metric=cpu] .value')).toMatch(/^\d+\.\d%$/)
    expect(await page.textContent('[data-metric=memory] .value')).toMatch(/^\d+\.\d MB RSS$/)
    expect(await page.textContent('[data-metric=loop] .value')).toMatch(/^\d+\.\d\d ms$/)
    expect(Number(await page.textContent('[data-metric=streams] .value'))).toBeGreaterThanOrEqual(1)
    expect(await page.locator('#system svg.spark polyline').count()).toBe(4)

    // The README's screenshot: a filled-in sparkline and a note in the feed.
    await postNote('Deployed v2.4 to production')
    await page.locator('#feed .note').first().waitFor()
    await page.waitForFunction(
      () => Number(document.querySelector('#system svg.spark')?.getAttribute('data-points')) >= 60,
      undefined,
      { timeout: 45_000 },
    )
    await page.setViewportSize({ width: 1280, height: 660 })
    if (WRITE_SCREENSHOT) mkdirSync(dirname(SCREENSHOT), { recursive: true })
    const png = await page.screenshot({
      animations: 'disabled',
      ...(WRITE_SCREENSHOT && { path: SCREENSHOT }),
    })
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE)
  }, 90_000)

  it('a note posted in one tab appears in every open tab, and an XSS payload stays inert text', async () => {
    const first = await open('/notifications')
    const second = await open('/notifications')
    const dashboard = await open('/')
    await Promise.all([first, second, dashboard].map(({ page }) => waitForStream(page)))

    await first.page.fill('#note-text', 'Hello from tab one')
    await first.page.click('.note-form button')
    for (const { page } of [first, second]) {
      await page.locator('#notes .note-text', { hasText: 'Hello from tab one' }).waitFor()
    }
    await dashboard.page.locator('#feed .note-text', { hasText: 'Hello from tab one' }).waitFor()
    // The form resets after a successful post; the note is appended once, by the SSE event.
    expect(await first.page.inputValue('#note-text')).toBe('')
    expect(
      await first.page.locator('#notes .note-text', { hasText: 'Hello from tab one' }).count(),
    ).toBe(1)

    await second.page.fill('#note-text', XSS)
    await second.page.click('.note-form button')
    for (const { page } of [first, second]) {
      const note = page.locator('#notes .note-text', { hasText: XSS })
      await note.waitFor()
      expect(await note.textContent()).toBe(XSS)
      expect(await page.locator('#notes img').count()).toBe(0)
    }
    await dashboard.page.locator('#feed .note-text', { hasText: XSS }).waitFor()
    expect(await dashboard.page.locator('#feed img').count()).toBe(0)
    // (afterEach asserts that no alert() ran.)
  }, 60_000)

  it("the scoreboard updates in refresh mode and state mode, and game 1's page ignores game 2", async () => {
    const game1 = await open('/games/1')
    const game2 = await open('/games/2')
    await Promise.all([game1, game2].map(({ page }) => waitForStream(page)))
    await recordSseEvents(game1.page)

    const score = (page: WatchedPage['page'], mode: string, team: string) =>
      page.textContent(`#${mode} .team-score[data-team=${team}]`)

    // Two goals in game 2, on game 2's page.
    await game2.page.click('[data-score=home]')
    await game2.page.click('[data-score=home]')
    for (const mode of ['refresh-mode', 'state-mode']) {
      await expect.poll(() => score(game2.page, mode, 'home')).toBe('2')
    }
    // Then one in game 1. Game 1's events come after game 2's on the broker, so once game 1's page
    // shows its own, it would already have seen game 2's had it been subscribed to them.
    await game1.page.click('[data-score=away]')
    for (const mode of ['refresh-mode', 'state-mode']) {
      await expect.poll(() => score(game1.page, mode, 'away')).toBe('1')
      expect(await score(game1.page, mode, 'home')).toBe('0')
    }
    expect(await sseLog(game1.page)).toEqual(['refresh-scoreboard', 'state'])
    expect(await score(game2.page, 'state-mode', 'away')).toBe('0')
    expect(await game1.page.textContent('#state-mode .team-name')).toBe('Lions')
  }, 60_000)

  it('a job streams its progress into the bar, then done and sse-close end its stream', async () => {
    const { page } = await open('/jobs')
    await waitForStream(page)
    await recordSseEvents(page)
    const streamsBefore = app!.broker.stats().streams

    await page.click('button[hx-post="/jobs"]')
    await page.locator('.job .job-status .ok').waitFor()
    expect(await page.textContent('.job .job-status')).toMatch(/Done in \d+\.\d s/)
    expect(await page.getAttribute('.job .progress', 'aria-valuenow')).toBe('100')
    expect(await page.textContent('.job .progress-label')).toContain('100%')

    const log = await sseLog(page)
    const progress = log.filter((type) => type === 'progress')
    // 8 or 6 steps plus the final 100%: the bar moved through every step, then `done` closed it.
    expect(progress.length).toBeGreaterThanOrEqual(7)
    expect(log.slice(-2)).toEqual(['close:message', 'done'])
    // The job's stream is gone on the server too; only the page's own stream is left.
    await expect.poll(() => app!.broker.stats().streams).toBe(streamsBefore)
  }, 60_000)

  it('a simulated reply streams token by token, with a tool card in between and a final done', async () => {
    const { page } = await open('/chat')
    await waitForStream(page)
    await recordSseEvents(page)
    const prompt = 'How do <b>reconnects</b> work?'

    await page.fill('.chat-form input', prompt)
    await page.click('.chat-form button')
    await page.locator('.msg.assistant .msg-meta .ok').waitFor()

    expect(await page.textContent('.msg.user')).toBe(prompt)
    const reply = assistantReply(prompt)
    const body = page.locator('.msg.assistant .msg-body')
    const texts = await body.evaluate((element) =>
      Array.from(element.children).map((child) =>
        child.classList.contains('tool-card') ? '[tool]' : child.textContent,
      ),
    )
    expect(texts).toEqual([...tokenize(reply.intro), '[tool]', ...tokenize(reply.answer)])
    expect(await body.locator('.tool-card code').textContent()).toBe('search_docs')

    const log = await sseLog(page)
    expect(log.filter((type) => type === 'token')).toHaveLength(
      tokenize(reply.intro).length + tokenize(reply.answer).length,
    )
    expect(log.indexOf('tool')).toBe(tokenize(reply.intro).length)
    expect(log.slice(-2)).toEqual(['close:message', 'done'])
    expect(await page.textContent('.msg.assistant .msg-meta')).toMatch(/\d+ tokens · 1 tool call/)
  }, 60_000)

  it('the htmx 4 page swaps live notes sent as unnamed events', async () => {
    const { page } = await open('/htmx4/notifications')
    expect(
      await page.evaluate(() => (window as unknown as { htmx: { version: string } }).htmx.version),
    ).toMatch(/^4\./)
    await expect
      .poll(() => app!.broker.subscribers('htmx4:notifications'))
      .toBeGreaterThanOrEqual(1)

    await page.fill('#note-text', 'Posted on htmx 4')
    await page.click('.note-form button')
    await page.locator('#notes .note-text', { hasText: 'Posted on htmx 4' }).waitFor()

    await postNote(`From elsewhere ${XSS}`)
    const note = page.locator('#notes .note-text', { hasText: 'From elsewhere' })
    await note.waitFor()
    expect(await note.textContent()).toBe(`From elsewhere ${XSS}`)
    expect(await page.locator('#notes img').count()).toBe(0)
    expect(await page.locator('#notes .note-text', { hasText: 'Posted on htmx 4' }).count()).toBe(1)
  }, 60_000)
})
