/// <reference lib="dom" />
import { existsSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SSEMiddleware } from '@sse/express'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'

const CHROMIUM = '/usr/bin/chromium'
const onCI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase())
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium && !onCI)
  console.warn(`[demo-express] ${CHROMIUM} not found: skipping browser tests`)
// On CI a missing browser fails the suite (in beforeAll) instead of skipping it.
const describeInBrowser = describe.skipIf(!hasChromium && !onCI)

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
    expect(await page.text()).toContain('sse-connect="/events?topics=notifications"')
    for (const asset of [
      '/vendor/htmx/htmx.min.js',
      '/vendor/htmx-ext-sse/sse.min.js',
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
    const errors: string[] = []

    beforeAll(async () => {
      if (!hasChromium)
        throw new Error(`${CHROMIUM} is missing: install it (apt-get install -y chromium)`)
      browser = await chromium.launch({
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
    })

    afterAll(async () => {
      await browser?.close()
    })

    async function open(): Promise<Page> {
      const page = await browser!.newPage()
      page.setDefaultTimeout(20_000)
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text())
      })
      page.on('pageerror', (error) => errors.push(error.message))
      page.on('dialog', (dialog) => {
        errors.push(`dialog: ${dialog.message()}`)
        dialog.dismiss().catch(() => {})
      })
      await page.goto(`${base}/notifications`)
      await page.waitForFunction(
        () => document.querySelector('[data-resume]')?.getAttribute('data-sse-state') === 'open',
      )
      return page
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
      expect(errors).toEqual([])
    }, 60_000)
  })
})
