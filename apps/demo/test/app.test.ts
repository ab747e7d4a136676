import type { AddressInfo } from 'node:net'
import { createBroker } from '@sse/core'
import { openStream } from '@sse/testing'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../src/app.js'
import { assetUrls } from '../src/assets.js'
import { parseTopics } from '../src/topics.js'

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
})

/** Reads an event stream until `done(text)` holds or the stream ends, then closes it. */
async function readStream(url: string, done: (text: string) => boolean): Promise<string> {
  const stream = await openStream(url)
  expect(stream.status).toBe(200)
  expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
  await stream.waitFor((s) => s.state !== 'open' || done(s.text()))
  await stream.close()
  return stream.text()
}

describe('the demo app', () => {
  let app: FastifyInstance | undefined

  afterEach(async () => {
    vi.useRealTimers()
    await app?.close()
    app = undefined
  })

  async function listen(): Promise<string> {
    app = buildApp()
    await app.listen({ port: 0, host: '127.0.0.1' })
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  }

  it('serves every browser asset from its npm package, htmx 2 with htmx-ext-sse 2 (not the htmx 1 extension)', async () => {
    app = buildApp()
    for (const url of Object.values(assetUrls)) {
      const response = await app.inject(url)
      expect(response.statusCode, url).toBe(200)
    }
    const extension = await app.inject(assetUrls.htmxExtSse)
    expect(extension.body).toContain('sse-connect')
    expect(extension.body).toContain('htmx.defineExtension')
    expect((await app.inject(assetUrls.htmx)).body).toContain('2.0.')
    expect((await app.inject(assetUrls.htmx4Sse)).body).toContain("'hx-sse:connect'")
  })

  it('renders every page with one sse-connect carrying all of its topics and the cursor to start after', async () => {
    app = buildApp()
    const expected: Record<string, string> = {
      '/': '/events?topics=system,notifications',
      '/notifications': '/events?topics=notifications',
      '/games/1': '/events?topics=game:1,notifications',
      '/jobs': '/events?topics=notifications',
      '/chat': '/events?topics=notifications',
      '/logs': '/events?topics=logs',
    }
    for (const [path, connect] of Object.entries(expected)) {
      const response = await app.inject(path)
      expect(response.statusCode, path).toBe(200)
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(response.body.match(/sse-connect="([^"]*)"/g), path).toEqual([
        `sse-connect="${connect}&amp;lastEventId=${app.broker.cursor()}"`,
      ])
    }
    const htmx4 = await app.inject('/htmx4/notifications')
    expect(htmx4.body).toContain(
      `hx-sse:connect="/events?topics=htmx4:notifications&amp;lastEventId=${app.broker.cursor()}"`,
    )
    expect(htmx4.body).not.toContain('sse-connect=')
  })

  it('refuses topics outside the allow-list before any stream opens', async () => {
    app = buildApp()
    for (const query of [
      '',
      '?topics=',
      '?topics=secrets',
      '?topics=game:1,admin',
      '?topics=game:UPPER',
    ]) {
      const response = await app.inject(`/events${query}`)
      expect(response.statusCode, query).toBe(400)
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8')
    }
    expect(
      parseTopics(
        'a,b,c,d,e,f,g,h,i'
          .split(',')
          .map((n) => `game:${n}`)
          .join(','),
      ),
    ).toEqual({
      error: 'At most 8 topics per connection.',
    })
    expect(parseTopics('system, notifications,system')).toEqual({
      topics: ['system', 'notifications'],
    })
  })

  it('publishes a note escaped, named for htmx 2 and unnamed for htmx 4', async () => {
    const base = await listen()
    const payload = '<img src=x onerror=alert(1)>'
    const reading = readStream(
      `${base}/events?topics=notifications,htmx4:notifications`,
      (text) => text.split('onerror').length > 2,
    )
    // The stream is subscribed once it is counted.
    await expect.poll(() => app!.broker.subscribers('htmx4:notifications')).toBe(1)
    const posted = await app!.inject({ method: 'POST', url: '/notes', ...form({ text: payload }) })
    expect(posted.statusCode).toBe(204)

    const frames = (await reading).split('\n\n').filter((frame) => frame.includes('data:'))
    expect(frames).toHaveLength(2)
    expect(frames[0]).toMatch(/^id: .+\nevent: notifications\ndata: <li class="note"/)
    expect(frames[1]).toMatch(/^id: .+\ndata: <li class="note"/)
    for (const frame of frames) {
      expect(frame).toContain('&lt;img src=x onerror=alert(1)&gt;')
      expect(frame).not.toContain('<img')
    }
    expect((await app!.inject('/notes')).body).toContain('&lt;img src=x onerror=alert(1)&gt;')
    // The list as a fragment (GET /notes), and the dashboard's feed.
    const feed = (await app!.inject('/notes?view=feed')).body
    expect(feed).toMatch(
      /^<ul id="feed" class="notes" sse-swap="notifications" hx-swap="afterbegin">/,
    )
    expect(feed).toContain('&lt;img src=x onerror=alert(1)&gt;')
  })

  it('rejects an empty or overlong note', async () => {
    app = buildApp()
    for (const text of ['', '   ', 'x'.repeat(281)]) {
      const response = await app.inject({ method: 'POST', url: '/notes', ...form({ text }) })
      expect(response.statusCode).toBe(400)
    }
  })

  it('scores only known actions on well-formed game ids', async () => {
    app = buildApp()
    expect((await app.inject({ method: 'POST', url: '/games/1/score/own-goal' })).statusCode).toBe(
      400,
    )
    expect((await app.inject({ method: 'POST', url: '/games/NOPE/score/home' })).statusCode).toBe(
      404,
    )
    expect((await app.inject({ method: 'POST', url: '/games/2/score/home' })).statusCode).toBe(204)
    expect((await app.inject('/games/2/state')).json()).toMatchObject({
      home: { score: 1 },
      last: 'home',
    })
  })

  it('answers a stream for an unknown job or reply with a lone done event, so sse-close stops the client', async () => {
    const base = await listen()
    for (const path of ['/jobs/unknown/stream', '/chat/unknown/stream']) {
      const text = await readStream(base + path, () => false)
      expect(text).toMatch(/^event: done\ndata: <span class="warn">/)
    }
  })

  it('samples the process and writes the log on timers that start with the app and stop when it closes', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const broker = createBroker()
    app = buildApp({ broker, dashboardIntervalMs: 1000 })
    await app.ready()
    // The dashboard's and the log's: one each, however many pages watch.
    expect(vi.getTimerCount()).toBe(2)
    vi.advanceTimersByTime(3000)
    // Nobody watches the dashboard or the log on this instance: nothing is published.
    expect(broker.stats().published).toBe(0)
    await app.close()
    app = undefined
    expect(vi.getTimerCount()).toBe(0)
    // A broker passed in stays open.
    expect(broker.isClosed).toBe(false)
    await broker.close()
  })
})
