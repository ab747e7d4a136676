import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SSEMiddleware } from '@sse/express'
import {
  describeInBrowser,
  launchBrowser,
  openPage,
  type WatchedPage,
  waitForStream,
} from '@sse/testkit/browser'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'

describe('the Express demo', () => {
  let server: Server | undefined
  let sse: SSEMiddleware | undefined
  let base = ''

  beforeAll(async () => {
    const built = buildApp()
    sse = built.sse
    server = await new Promise<Server>((resolve) => {
      const listening = built.app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await sse?.close()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  })

  it('serves the page, htmx 2 and htmx-ext-sse 2 locally, and rejects an empty note', async () => {
    const page = await fetch(`${base}/notifications`)
    expect(page.status).toBe(200)
    // The stream starts after the broker's cursor (see gapFree.test.ts).
    expect(await page.text()).toContain(
      'sse-connect="/events?topics=notifications&amp;lastEventId=',
    )
    for (const asset of [
      '/vendor/htmx/htmx.min.js',
      '/vendor/htmx-ext-sse/sse.min.js',
      '/vendor/sse/sse-resume.js',
      '/static/app.js',
      '/static/style.css',
    ]) {
      expect((await fetch(base + asset)).status, asset).toBe(200)
    }
    const empty = await fetch(`${base}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'text=',
    })
    expect(empty.status).toBe(400)
  })

  describeInBrowser('in a real browser', () => {
    let browser: Browser | undefined
    const watched: WatchedPage[] = []

    beforeAll(async () => {
      browser = await launchBrowser()
    })

    afterAll(async () => {
      await browser?.close()
    })

    async function open(): Promise<Page> {
      const opened = await openPage(await browser!.newContext(), `${base}/notifications`)
      watched.push(opened)
      await waitForStream(opened.page)
      return opened.page
    }

    it('a note posted in one tab appears in both, escaped', async () => {
      const first = await open()
      const second = await open()
      const payload = 'Express says <img src=x onerror=alert(1)>'
      await first.fill('#note-text', payload)
      await first.click('.note-form button')
      for (const page of [first, second]) {
        const note = page.locator('#notes .note-text', { hasText: 'Express says' })
        await note.waitFor()
        expect(await note.textContent()).toBe(payload)
        expect(await page.locator('#notes img').count()).toBe(0)
      }
      await first.close()
      await second.close()
      // Console errors, page errors and dialogs (the XSS payload must not open one).
      expect(
        watched.flatMap((w) => [...w.errors, ...w.dialogs.map((d) => `dialog: ${d}`)]),
      ).toEqual([])
    }, 60_000)
  })
})
