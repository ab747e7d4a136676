import type { AuthorizeHook, BrokerOptions, SSEError } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import {
  authorizeVerdicts,
  httpRequests,
  openSocket,
  rawSocket,
  runIsolated,
  useCleanups,
  waitFor,
} from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)

/** A broker behind a real server; `?name=` becomes a response header of the stream. */
async function setup(options: BrokerOptions) {
  const errors: SSEError[] = []
  const { broker, url } = await serveBroker(
    cleanups,
    { onError: (error) => errors.push(error), ...options },
    (broker, req, res) => {
      const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name')
      broker.stream(req, res, {
        topics: ['t'],
        ...(name !== null && { headers: { 'x-name': name } }),
      })
    },
  )
  const connect = (path = '/') => openStream(`${url}${path}`)
  return { broker, errors, connect }
}

describe.each([
  ['a sync hook', (verdict: () => unknown) => () => verdict()],
  ['an async hook', (verdict: () => unknown) => async () => verdict()],
] as const)('%s', (_, hook) => {
  test.each(authorizeVerdicts.map((c) => [c.name, c.status, c] as const))(
    '%s gives %i, and leaves nothing counted',
    async (_name, status, { verdict, body, code }) => {
      const { broker, errors, connect } = await setup({ authorize: hook(verdict) as AuthorizeHook })
      const client = await connect()
      await client.ended()
      expect(client.status).toBe(status)
      expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(client.text()).toBe(body)
      expect(errors.map((error) => error.code)).toEqual(code === undefined ? [] : [code])
      await waitFor(() => broker.stats().streams === 0)
      expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 1 })
    },
  )

  test('answering true admits the stream', async () => {
    const { broker, connect } = await setup({ authorize: hook(() => true) as AuthorizeHook })
    const client = await connect()
    expect(client.status).toBe(200)
    await waitFor(() => broker.subscribers('t') === 1)
    await broker.publish('t', 'in')
    await client.take(1)
  })

  test('a header value Node refuses (non-Latin-1, from the query) answers 500 and reports INVALID_OPTION', async () => {
    const { broker, errors, connect } = await setup({
      authorize: hook(() => true) as AuthorizeHook,
    })
    const client = await connect(`/?name=${encodeURIComponent('✓ ok')}`)
    await client.ended()
    expect(client.status).toBe(500)
    expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
  })

  test('a head that cannot be written (the app already sent one) reports OPEN_FAILED, ends the response and counts nothing', async () => {
    const errors: SSEError[] = []
    const { broker, url } = await serveBroker(
      cleanups,
      { onError: (error) => errors.push(error), authorize: hook(() => true) as AuthorizeHook },
      (broker, req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.write('already answering\n')
        broker.stream(req, res, { topics: ['t'] })
      },
    )
    const socket = openSocket(cleanups, url, httpRequests(1))
    await socket.closed()
    expect(errors.map((error) => error.code)).toEqual(['OPEN_FAILED'])
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
  })
})

test('a hook that throws answers 500 and reports AUTHORIZE_FAILED with the cause; so does one that rejects', async () => {
  const cause = new Error('token store down')
  for (const authorize of [
    () => {
      throw cause
    },
    () => Promise.reject(cause),
  ]) {
    const { broker, errors, connect } = await setup({ authorize })
    const client = await connect()
    await client.ended()
    expect(client.status).toBe(500)
    expect(errors[0]?.code).toBe('AUTHORIZE_FAILED')
    expect(errors[0]?.cause).toBe(cause)
    expect(broker.stats().streams).toBe(0)
  }
})

test('a client that leaves while its async verdict is pending holds nothing once it arrives', async () => {
  let admit: (value: boolean) => void = () => {}
  const { broker, url } = await serveBroker(cleanups, {
    authorize: () => new Promise<boolean>((resolve) => (admit = resolve)),
  })
  const socket = rawSocket(url, httpRequests(1))
  await waitFor(() => broker.stats().streams === 1)
  socket.destroy()
  await waitFor(() => broker.stats().streams === 0)
  admit(true)
  await new Promise((resolve) => setImmediate(resolve))
  expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
  expect(broker.subscribers('t')).toBe(0)
})

test('stream options built from the request never throw into the handler: 500 and INVALID_OPTION', async () => {
  const errors: SSEError[] = []
  const { broker, url } = await serveBroker(
    cleanups,
    { onError: (error) => errors.push(error) },
    (broker, req, res) => {
      const retry = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('retry'))
      broker.stream(req, res, { topics: ['t'], retry })
    },
  )
  const client = await openStream(`${url}/?retry=soon`)
  await client.ended()
  expect(client.status).toBe(500)
  expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
  expect(broker.stats().streams).toBe(0)
})

test('with no unhandledRejection handler, hostile verdicts and header values never end the process', async () => {
  const run = await runIsolated(
    `
    import { request } from 'node:http'
    import { createServer } from 'node:http'
    import { createBroker } from '@sse/core'

    const verdicts = [null, { status: 99 }, { message: 123 }, { status: 200 }, 'yes', true]
    let i = 0
    const reported = []
    const broker = createBroker({
      keepAlive: 0,
      onError: (error) => reported.push(error.code),
      authorize: async () => verdicts[i++ % verdicts.length],
    })
    const server = createServer((req, res) => {
      const name = new URL(req.url, 'http://x').searchParams.get('name')
      broker.stream(req, res, { topics: ['t'], ...(name && { headers: { 'x-name': name } }) })
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address()
    const get = (path) =>
      new Promise((resolve) => {
        const req = request({ port, host: '127.0.0.1', path, agent: false }, (res) => {
          resolve(res.statusCode)
          res.destroy()
        })
        req.on('error', () => resolve(0))
        req.end()
      })
    const statuses = []
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < verdicts.length; k++) statuses.push(await get('/'))
    }
    i = verdicts.length - 1 // the next verdict admits: the header value is refused
    statuses.push(await get('/?name=' + encodeURIComponent('✓')))
    while (broker.stats().streams > 0) await new Promise((r) => setTimeout(r, 5))
    console.log(JSON.stringify({ statuses, reported, streams: broker.stats().streams }))
    await broker.close()
    server.close()
    `,
  )
  expect(run.stderr).not.toMatch(/Unhandled|unhandled/)
  expect(run.code).toBe(0)
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!)
  expect(result.statuses).toEqual([
    ...[403, 500, 500, 500, 500, 200],
    ...[403, 500, 500, 500, 500, 200],
    ...[403, 500, 500, 500, 500, 200],
    500,
  ])
  expect(result.reported.filter((code: string) => code === 'AUTHORIZE_FAILED')).toHaveLength(12)
  expect(result.reported).toContain('INVALID_OPTION')
  expect(result.streams).toBe(0)
})
