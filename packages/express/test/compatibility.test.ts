import type { Server } from 'node:http'
import { sseMiddleware } from '@sse/express'
import { closeStreams, openStream, type TestStream } from '@sse/testing'
import {
  httpRequests,
  type Listening,
  listen,
  type RawSocket,
  rawSocket,
  waitFor,
} from '@sse/testkit'
import express5 from 'express'
import express4 from 'express4'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { attachEcho, compatApp } from './compat/compatApp.js'
import {
  comparable,
  exchange,
  type RawRequest,
  type RawResponse,
  withoutVolatileHeaders,
} from './compat/rawExchange.js'

/** A multipart body with one field and one file, built by hand so both apps get the same bytes. */
function multipart(boundary: string): string {
  return [
    `--${boundary}`,
    'Content-Disposition: form-data; name="name"',
    '',
    'notes',
    `--${boundary}`,
    'Content-Disposition: form-data; name="file"; filename="notes.txt"',
    'Content-Type: text/plain',
    '',
    'first line\nsecond line',
    `--${boundary}--`,
    '',
  ].join('\r\n')
}

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)(
  '%s: an app with common middleware answers the same with @sse/express as without it, once streams are open',
  (_, express) => {
    const sse = sseMiddleware({ keepAlive: 0 })
    const logs = { withSse: [] as string[], without: [] as string[] }
    const servers: Listening<Server>[] = []
    const sockets: RawSocket[] = []
    const streams: TestStream[] = []
    let withSse: string
    let without: string
    let seq = 0

    beforeAll(async () => {
      const upstream = await listen((req, res) => {
        res.setHeader('x-upstream', 'yes')
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host }))
      })
      const upstreamUrl = upstream.url
      servers.push(upstream)
      for (const [key, middleware] of [
        ['withSse', sse],
        ['without', undefined],
      ] as const) {
        const app = compatApp(express, { sse: middleware, upstream: upstreamUrl, log: logs[key] })
        const server = await listen(app)
        attachEcho(server.server)
        servers.push(server)
        if (key === 'withSse') withSse = server.url
        else without = server.url
      }
      // Streams open before any comparison: one read, one whose client never reads, one already left.
      streams.push(await openStream(`${withSse}/events`))
      sockets.push(rawSocket(withSse, httpRequests(1, 'GET', '/events'), { read: false }))
      const left = await openStream(`${withSse}/events`)
      left.close()
      await waitFor(() => sse.broker.subscribers('news') === 2)
    })

    beforeEach(async () => {
      // Each comparison comes after one more stream than the last, on the same server.
      streams.push(
        await openStream(`${withSse}/events`, { headers: { 'accept-encoding': 'gzip' } }),
      )
    })

    afterAll(async () => {
      await closeStreams()
      for (const socket of sockets) socket.destroy()
      await sse.close()
      for (const server of servers) await server.close()
    })

    /** Sends `request` to both apps; their answers must be the same bytes (but `Date`). */
    async function compare(request: RawRequest): Promise<RawResponse> {
      const headers = { 'x-seq': String(++seq), ...request.headers }
      const a = await exchange(withSse, { ...request, headers })
      const b = await exchange(without, { ...request, headers })
      expect(comparable(a)).toBe(comparable(b))
      return a
    }

    test('the streams are real: events reach them through helmet, cors, compression and the wrappers', async () => {
      const stream = streams.at(-1)!
      expect(stream.status).toBe(200)
      expect(stream.headers['content-encoding']).toBeUndefined()
      expect(stream.headers['x-content-type-options']).toBe('nosniff')
      await waitFor(() => sse.broker.subscribers('news') === streams.length + 1)
      await sse.broker.publish('news', 'to every stream')
      expect((await stream.take(1))[0]).toMatchObject({ event: 'news', data: 'to every stream' })
    })

    test('a route that sends through a wrapped res.send, and a plain one, answer 200 (GET and HEAD)', async () => {
      const hello = await compare({ path: '/hello' })
      expect([hello.status, hello.header('x-wrapped-send'), hello.body.toString()]).toEqual([
        200,
        'yes',
        'hello',
      ])
      expect((await compare({ method: 'HEAD', path: '/hello' })).status).toBe(200)
      const health = await compare({ path: '/health' })
      // compression answers a bare res.end() in chunks
      expect([health.status, health.body.toString()]).toEqual([200, '2\r\nok\r\n0\r\n\r\n'])
    })

    test('helmet’s headers are all there', async () => {
      const hello = await compare({ path: '/hello' })
      expect(hello.header('content-security-policy')).toMatch(/default-src 'self'/)
      expect(hello.header('x-frame-options')).toBe('SAMEORIGIN')
      expect(hello.header('x-powered-by')).toBeUndefined()
    })

    test('res.json through the wrapper and express-mung', async () => {
      const json = await compare({ path: '/json' })
      expect(json.header('x-wrapped-json')).toBe('yes')
      expect(JSON.parse(json.body.toString())).toEqual({
        greeting: 'hi',
        path: '/json',
        munged: true,
      })
    })

    test('res.render through express-ejs-layouts', async () => {
      const page = await compare({ path: '/page' })
      expect(page.status).toBe(200)
      expect(page.body.toString()).toContain('<title>Notes</title>')
      expect(page.body.toString()).toContain('<li>&lt;b&gt;</li>')
    })

    test('compression: the same gzip bytes', async () => {
      const big = await compare({ path: '/big', headers: { 'accept-encoding': 'gzip' } })
      expect(big.header('content-encoding')).toBe('gzip')
      expect(big.body.length).toBeLessThan(2000)
    })

    test('an Express 5 validator that redefines req.query is read back', async () => {
      const search = await compare({ path: '/search?q=%20sse%20&page=3' })
      expect(JSON.parse(search.body.toString())).toMatchObject({ query: { q: 'sse', page: 3 } })
    })

    test('cors: a preflight and a request from an allowed origin', async () => {
      const origin = { origin: 'https://app.example' }
      const preflight = await compare({
        method: 'OPTIONS',
        path: '/json',
        headers: { ...origin, 'access-control-request-method': 'PUT' },
      })
      expect([preflight.status, preflight.header('access-control-allow-methods')]).toEqual([
        204,
        'GET,HEAD,PUT,PATCH,POST,DELETE',
      ])
      const json = await compare({ path: '/json', headers: origin })
      expect(json.header('access-control-allow-origin')).toBe('https://app.example')
    })

    test('cookie-parser: a signed cookie is set and read back', async () => {
      const first = await compare({ path: '/cookie' })
      const cookie = first.header('set-cookie')!.split(';')[0]!
      expect(cookie).toMatch(/^pref=s%3Adark\./)
      const second = await compare({ path: '/cookie', headers: { cookie } })
      expect(JSON.parse(second.body.toString())).toMatchObject({ signed: { pref: 'dark' } })
    })

    test('express-session keeps a count across requests', async () => {
      const first = await compare({ path: '/count' })
      const cookie = first.header('set-cookie')!.split(';')[0]!
      const second = await compare({ path: '/count', headers: { cookie } })
      expect(JSON.parse(second.body.toString())).toMatchObject({ count: 2 })
    })

    test('passport: a wrong password is refused, the right one logs in through the session', async () => {
      const form = { 'content-type': 'application/x-www-form-urlencoded' }
      const refused = await compare({
        method: 'POST',
        path: '/login',
        headers: form,
        body: 'username=ada&password=no',
      })
      expect([refused.status, refused.header('location')]).toEqual([302, '/login-failed'])
      const login = await compare({
        method: 'POST',
        path: '/login',
        headers: form,
        body: 'username=ada&password=lovelace',
      })
      expect([login.status, login.header('location')]).toEqual([302, '/me'])
      const cookie = login.header('set-cookie')!.split(';')[0]!
      const me = await compare({ path: '/me', headers: { cookie } })
      expect(JSON.parse(me.body.toString())).toMatchObject({
        user: { name: 'ada' },
        authenticated: true,
      })
    })

    test('express-rate-limit counts and refuses the same', async () => {
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) statuses.push((await compare({ path: '/limited' })).status)
      expect(statuses).toEqual([200, 200, 429])
    })

    test('multer reads a multipart upload', async () => {
      const boundary = 'compat-boundary'
      const upload = await compare({
        method: 'POST',
        path: '/upload',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: multipart(boundary),
      })
      expect(JSON.parse(upload.body.toString())).toMatchObject({
        name: 'notes',
        file: ['notes.txt', 22],
      })
    })

    test('http-proxy-middleware forwards to its upstream', async () => {
      const proxied = await compare({ path: '/proxy/items?x=1' })
      expect(proxied.header('x-upstream')).toBe('yes')
      expect(JSON.parse(proxied.body.toString())).toMatchObject({
        method: 'GET',
        url: '/items?x=1',
      })
    })

    test('a route that throws, and a path nobody serves, get Express’s own 500 and 404', async () => {
      expect((await compare({ path: '/boom' })).status).toBe(500)
      expect((await compare({ path: '/missing' })).status).toBe(404)
    })

    test('a WebSocket upgrade on the same server echoes', async () => {
      const echoes = await Promise.all(
        [withSse, without].map(async (url) => {
          const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`)
          await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
          const echoed = new Promise<string>((resolve) =>
            socket.once('message', (data) => resolve(String(data))),
          )
          socket.send('ping')
          const echo = await echoed
          socket.close()
          return echo
        }),
      )
      expect(echoes).toEqual(['echo:ping', 'echo:ping'])
    })

    test('pipelined requests on one connection get the same bytes, and a stream after them opens', async () => {
      const ahead =
        httpRequests(1, 'GET', '/hello') +
        httpRequests(1, 'GET', '/json') +
        httpRequests(1, 'HEAD', '/page')
      const a = rawSocket(withSse, `${ahead}${httpRequests(1, 'GET', '/events')}`)
      const b = rawSocket(without, `${ahead}${httpRequests(1, 'GET', '/events')}`)
      sockets.push(a, b)
      // Bodies run into the next status line, so statuses are found anywhere, not at line starts.
      const statuses = (socket: RawSocket) => socket.text().match(/HTTP\/1\.1 \d{3}/g) ?? []
      await waitFor(() => statuses(a).length === 4 && statuses(b).length === 4)
      const firstThree = (socket: RawSocket) =>
        withoutVolatileHeaders(socket.text().slice(0, socket.text().lastIndexOf('HTTP/1.1 ')))
      expect(firstThree(a)).toBe(firstThree(b))
      expect(statuses(a)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200'])
      expect(a.text()).toContain('Content-Type: text/event-stream; charset=utf-8')
    })

    test('morgan wrote the same access log for both', async () => {
      const requests = (lines: string[]) => lines.filter((line) => !line.includes(' /events '))
      await waitFor(() => requests(logs.withSse).length === requests(logs.without).length)
      expect(requests(logs.withSse)).toEqual(requests(logs.without))
      expect(requests(logs.withSse)).toContain('GET /hello 200 5')
    })
  },
)
