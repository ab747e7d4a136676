import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  type BrokerOptions,
  createBroker,
  MemoryTransport,
  SSEError,
  type SSEStream,
} from '@sse/core'
import type { ControlMessage, Transport, TransportSink } from '@sse/core/kit'
import { closeStreams, openStream } from '@sse/testing'
import { errorOf, runIsolated, useCleanups, waitFor } from '@sse/testkit'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)

/** The code of the SSEError `fn` throws (anything else fails the test), or `undefined`. */
const codeOf = (fn: () => unknown) => errorOf(fn, SSEError)?.code

/** `GET /?tags=a,b` opens a stream on topic `t` tagged `a` and `b`. */
async function setup(options: BrokerOptions = {}) {
  const errors: SSEError[] = []
  const streams: SSEStream[] = []
  const { broker, url } = await serveBroker(
    cleanups,
    { onError: (error) => errors.push(error), ...options },
    (broker, req, res) => {
      const tags = new URL(req.url ?? '/', 'http://x').searchParams.get('tags')
      streams.push(
        broker.stream(req, res, { topics: ['t'], ...(tags !== null && { tags: tags.split(',') }) }),
      )
    },
  )
  const connect = (tags?: string) =>
    openStream(url, tags === undefined ? '/' : `/?tags=${encodeURIComponent(tags)}`)
  return { broker, url, errors, streams, connect }
}

/** Collects the messages of a diagnostics channel while a test runs. */
function record(name: string): unknown[] {
  const messages: unknown[] = []
  const listener = (message: unknown) => messages.push(message)
  subscribe(name, listener)
  cleanups.push(() => unsubscribe(name, listener))
  return messages
}

describe('broker.disconnect() ends the tagged streams', () => {
  test('{ tag } ends every stream carrying it after the final event, exact bytes, and nothing else', async () => {
    const { broker, connect } = await setup()
    const disconnects = record('sse:disconnect')
    const a = await connect('user:1,session:a')
    const b = await connect('session:b,user:1')
    const other = await connect('user:2')
    const untagged = await connect()
    await waitFor(() => broker.stats().streams === 4)
    const count = await broker.disconnect(
      { tag: 'user:1' },
      { event: { event: 'signed-out', data: '<p>Signed out</p>' } },
    )
    expect(count).toBe(2)
    for (const client of [a, b]) {
      expect(await client.ended()).toBe('ended')
      expect(client.text()).toBe('event: signed-out\ndata: <p>Signed out</p>\n\n')
    }
    const id = await broker.publish('t', 'still here')
    for (const client of [other, untagged]) {
      await client.waitFor((c) => c.events.length === 1)
      expect(client.events[0]).toMatchObject({ id, data: 'still here' })
    }
    expect(broker.stats()).toMatchObject({ streams: 2, revoked: 2, disconnectFailures: 0 })
    expect(disconnects).toEqual([{ broker, tags: ['user:1'], count: 2, remote: false }])
  })

  test('{ tags } ends the streams carrying any of them, each once, whatever it matched on', async () => {
    const { broker, connect } = await setup()
    const both = await connect('session:a,session:b')
    const one = await connect('session:b')
    const spared = await connect('session:c')
    await waitFor(() => broker.stats().streams === 3)
    const ended = broker.disconnect(
      { tags: ['session:a', 'session:b', 'session:a', 'session:nobody'] },
      { event: { data: 'bye' } },
    )
    await expect(ended).resolves.toBe(2)
    for (const client of [both, one]) {
      await client.ended()
      expect(client.text()).toBe('data: bye\n\n')
    }
    expect(broker.stats()).toMatchObject({ streams: 1, revoked: 2 })
    expect(spared.state).toBe('open')
    await expect(broker.disconnect({ tag: 'session:a' })).resolves.toBe(0)
  })

  test('without a final event the stream just ends: the client reconnects as after any drop', async () => {
    const { broker, connect } = await setup()
    const client = await connect('user:1')
    await waitFor(() => broker.stats().streams === 1)
    await broker.publish('t', 'before')
    await client.waitFor((c) => c.events.length === 1)
    await expect(broker.disconnect({ tag: 'user:1' })).resolves.toBe(1)
    expect(await client.ended()).toBe('ended')
    expect(client.events.map((event) => event.data)).toEqual(['before'])
  })

  test('a revoked client that reconnects goes through authorize again: the npm EventSource gets 403 and stops', async () => {
    const revoked = new Set<string>()
    const asked: string[] = []
    const { broker, url } = await serveBroker(
      cleanups,
      {
        authorize: (req) => {
          const session = new URL(req.url ?? '/', 'http://x').searchParams.get('session') ?? ''
          asked.push(session)
          return !revoked.has(session)
        },
      },
      (broker, req, res) => {
        const session = new URL(req.url ?? '/', 'http://x').searchParams.get('session')
        broker.stream(req, res, { topics: ['t'], tags: [`session:${session}`], retry: 20 })
      },
    )
    const source = new EventSource(`${url}/?session=s1`)
    cleanups.push(() => source.close())
    const seen: string[] = []
    source.addEventListener('signed-out', (event) => seen.push(`signed-out: ${event.data}`))
    source.addEventListener('t', (event) => seen.push(event.data))
    await new Promise((resolve) => source.addEventListener('open', resolve, { once: true }))
    await broker.publish('t', 'hello')
    await waitFor(() => seen.length === 1, 'the first event')
    const failed = new Promise((resolve) => source.addEventListener('error', resolve))

    revoked.add('s1') // first what authorize checks, then the open streams
    await broker.disconnect({ tag: 'session:s1' }, { event: { event: 'signed-out', data: 'bye' } })

    await failed
    await waitFor(() => source.readyState === EventSource.CLOSED, 'the EventSource to give up')
    expect(seen).toEqual(['hello', 'signed-out: bye'])
    expect(asked).toEqual(['s1', 's1'])
    expect(broker.stats()).toMatchObject({ revoked: 1, refused: 1, streams: 0 })
  })

  test('a stream whose async authorize verdict is pending when it is revoked is ended as soon as it opens', async () => {
    let admit: (verdict: boolean) => void = () => {}
    const verdict = new Promise<boolean>((resolve) => {
      admit = resolve
    })
    const { broker, connect } = await setup({ authorize: () => verdict })
    const client = connect('user:1')
    await waitFor(() => broker.stats().streams === 1)
    // The verdict was read before the revocation, as a real check racing it could be.
    await expect(
      broker.disconnect({ tag: 'user:1' }, { event: { event: 'signed-out', data: '' } }),
    ).resolves.toBe(1)
    await expect(broker.disconnect({ tag: 'user:1' })).resolves.toBe(0)
    admit(true)
    const opened = await client
    await opened.ended()
    expect(opened.status).toBe(200)
    expect(opened.text()).toBe('event: signed-out\ndata: \n\n')
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, revoked: 1 })
  })

  test('a client that stopped reading is cut off rather than waited for; one that reads gets the final event with its retry', async () => {
    const { broker, connect, streams } = await setup({ maxBufferedBytes: 64 * 1024 * 1024 })
    const reader = await connect('user:1')
    const stalled = await connect('user:1')
    await waitFor(() => broker.stats().streams === 2)
    stalled.pause()
    const big = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 2000 && streams[1]!.bufferedBytes === 0; i++) {
      await broker.publish('t', big)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(streams[1]!.bufferedBytes).toBeGreaterThan(0)
    await expect(
      broker.disconnect({ tag: 'user:1' }, { event: { retry: 5000, data: 'gone' } }),
    ).resolves.toBe(2)
    expect(await reader.ended()).toBe('ended')
    expect(reader.text().endsWith('retry: 5000\ndata: gone\n\n')).toBe(true)
    // Cut off: nothing is held for it any more, and it does not wait for the client to read.
    await waitFor(() => broker.stats().streams === 0, 'the stalled stream to be let go of')
    expect(broker.stats().bufferedBytes).toBe(0)
  })
})

describe('bad input is refused with a coded error', () => {
  test.each([
    ['null', null],
    ['a string', 'user:1'],
    ['an array', ['user:1']],
    ['an empty object', {}],
    ['an unknown key', { user: '1' }],
    ['both tag and tags', { tag: 'a', tags: ['b'] }],
    ['an empty tag', { tag: '' }],
    ['a tag with LF', { tag: 'user:1\nx' }],
    ['a tag with a C1 control character', { tag: 'user:\u00851' }],
    ['a tag of 257 characters', { tag: 'x'.repeat(257) }],
    ['a number as tag', { tag: 42 }],
    ['an empty tags list', { tags: [] }],
    ['tags that is a string', { tags: 'user:1' }],
    ['a number among tags', { tags: ['user:1', 5] }],
  ])(
    'a selector that is %s throws INVALID_OPTION synchronously and ends nothing',
    async (_, selector) => {
      const { broker, connect } = await setup()
      await connect('user:1')
      await waitFor(() => broker.stats().streams === 1)
      const disconnect = broker.disconnect.bind(broker) as (...args: unknown[]) => unknown
      const error = errorOf(() => disconnect(selector), SSEError)
      expect(error?.code).toBe('INVALID_OPTION')
      expect(error?.message).toMatch(/^@sse\/core: disconnect\(\) /)
      expect(error?.message.length).toBeLessThan(300)
      expect(broker.stats()).toMatchObject({ streams: 1, revoked: 0 })
    },
  )

  test.each([
    ['a string', 'bye', 'INVALID_OPTION'],
    ['an unknown key', { evnt: { data: 'x' } }, 'INVALID_OPTION'],
    ['an event that is a string', { event: 'bye' }, 'INVALID_EVENT'],
    ['an event named with LF', { event: { event: 'a\nb' } }, 'INVALID_EVENT_NAME'],
    ['an id with CR', { event: { id: 'a\rb' } }, 'INVALID_EVENT_ID'],
    ['a negative retry', { event: { retry: -1 } }, 'INVALID_RETRY'],
  ])('options that are %s throw %s before anything is ended', async (_, options, code) => {
    const { broker, connect } = await setup()
    await connect('user:1')
    await waitFor(() => broker.stats().streams === 1)
    const disconnect = broker.disconnect.bind(broker) as (...args: unknown[]) => unknown
    expect(codeOf(() => disconnect({ tag: 'user:1' }, options))).toBe(code)
    expect(broker.stats()).toMatchObject({ streams: 1, revoked: 0 })
  })

  test('disconnect() on a closed broker throws BROKER_CLOSED', async () => {
    const broker = createBroker({ keepAlive: 0 })
    await broker.close()
    expect(codeOf(() => broker.disconnect({ tag: 'user:1' }))).toBe('BROKER_CLOSED')
  })

  test.each([
    ['a string', 'user:1'],
    ['17 tags', Array.from({ length: 17 }, (_, i) => `t${i}`)],
    ['an empty tag', ['']],
    ['a tag with NUL', ['a\u0000b']],
    ['a tag of 10,000 characters', ['x'.repeat(10_000)]],
    ['a number', [42]],
  ])(
    'stream option tags that is %s answers 500 and reaches onError as INVALID_OPTION naming "tags"',
    async (_, tags) => {
      const errors: SSEError[] = []
      const { broker, url } = await serveBroker(
        cleanups,
        { onError: (error) => errors.push(error) },
        (broker, req, res) => broker.stream(req, res, { topics: ['t'], tags: tags as never }),
      )
      const client = await openStream(url)
      await client.ended()
      expect(client.status).toBe(500)
      expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
      expect(errors[0]!.message).toMatch(
        /^@sse\/core: option "tags" must be an array of at most 16 tags/,
      )
      expect(errors[0]!.message.length).toBeLessThan(300)
      expect(broker.stats()).toMatchObject({ streams: 0, refused: 1 })
    },
  )

  test('an app that changes its tags array after opening the stream does not confuse the index', async () => {
    const tags = ['user:1']
    const { broker, url } = await serveBroker(cleanups, {}, (broker, req, res) =>
      broker.stream(req, res, { topics: ['t'], tags }),
    )
    const client = await openStream(url)
    await waitFor(() => broker.stats().streams === 1)
    tags[0] = 'user:2'
    await expect(broker.disconnect({ tag: 'user:2' })).resolves.toBe(0)
    await expect(broker.disconnect({ tag: 'user:1' })).resolves.toBe(1)
    await client.ended()
    await expect(broker.disconnect({ tag: 'user:1' })).resolves.toBe(0)
  })

  test('16 tags of 256 characters are accepted, and every one of them finds the stream', async () => {
    const tags = Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(256, '·'))
    const { broker, url } = await serveBroker(cleanups, {}, (broker, req, res) =>
      broker.stream(req, res, { topics: ['t'], tags }),
    )
    for (const tag of tags) {
      const client = await openStream(url)
      await waitFor(() => broker.stats().streams === 1)
      await expect(broker.disconnect({ tag })).resolves.toBe(1)
      await client.ended()
    }
  })
})

/** A memory transport with a control channel: records what it sends, and hands `sink` out. */
class ControlTransport extends MemoryTransport implements Transport {
  sink: TransportSink | undefined
  readonly sent: ControlMessage[] = []
  send: (message: ControlMessage) => void | Promise<void> = (message) => {
    this.sent.push(message)
  }

  override start(sink: TransportSink): void {
    this.sink = sink
    super.start(sink)
  }

  sendControl(message: ControlMessage): void | Promise<void> {
    return this.send(message)
  }
}

describe('through a transport with a control channel', () => {
  test('disconnect() sends the other instances the tags and the final frame, and resolves with the local count once sent', async () => {
    const transport = new ControlTransport()
    let release: () => void = () => {}
    transport.send = (message) =>
      new Promise<void>((resolve) => {
        transport.sent.push(message)
        release = resolve
      })
    const { broker, connect } = await setup({ transport })
    const client = await connect('user:1')
    await waitFor(() => broker.stats().streams === 1)
    let settled = false
    const ended = broker.disconnect({ tag: 'user:1' }, { event: { event: 'bye', data: 'ü' } })
    ended.then(() => {
      settled = true
    })
    await client.ended() // ended at once, before the message is out
    expect(transport.sent).toEqual([
      { type: 'disconnect', tags: ['user:1'], frame: 'event: bye\ndata: ü\n\n' },
    ])
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    release()
    await expect(ended).resolves.toBe(1)
    transport.send = (message) => {
      transport.sent.push(message)
    }
    await broker.disconnect({ tags: ['a', 'b'] })
    expect(transport.sent[1]).toEqual({ type: 'disconnect', tags: ['a', 'b'] })
  })

  test('a control message from another instance ends the matching streams here, counted as remote', async () => {
    const transport = new ControlTransport()
    const disconnects = record('sse:disconnect')
    const { broker, connect } = await setup({ transport })
    const client = await connect('user:1')
    const other = await connect('user:2')
    await waitFor(() => broker.stats().streams === 2)
    transport.sink!.control!({ type: 'disconnect', tags: ['user:1'], frame: 'event: bye\n\n' })
    await client.ended()
    expect(client.text()).toBe('event: bye\n\n')
    expect(other.state).toBe('open')
    expect(transport.sent).toEqual([]) // never echoed back
    expect(broker.stats()).toMatchObject({ streams: 1, revoked: 1 })
    expect(disconnects).toEqual([{ broker, tags: ['user:1'], count: 1, remote: true }])
  })

  test.each([
    ['null', null],
    ['a string', 'disconnect user:1'],
    ['an unknown type', { type: 'shutdown', tags: ['user:1'] }],
    ['no tags', { type: 'disconnect' }],
    ['empty tags', { type: 'disconnect', tags: [] }],
    ['a tag with LF', { type: 'disconnect', tags: ['user:1\n'] }],
    ['a frame that is a number', { type: 'disconnect', tags: ['user:1'], frame: 5 }],
  ])(
    'a malformed control message (%s) is reported as TRANSPORT_ERROR and ends nothing',
    async (_, message) => {
      const transport = new ControlTransport()
      const { broker, connect, errors } = await setup({ transport })
      await connect('user:1')
      await waitFor(() => broker.stats().streams === 1)
      expect(() => transport.sink!.control!(message as never)).not.toThrow()
      expect(errors.map((error) => [error.code, error.message])).toEqual([
        ['TRANSPORT_ERROR', '@sse/core: ignored a malformed control message'],
      ])
      expect(broker.stats()).toMatchObject({ streams: 1, revoked: 0 })
    },
  )

  test('while the transport cannot send, the local streams end all the same, the promise rejects (handled), onError hears once per outage', async () => {
    const transport = new ControlTransport()
    let mode: 'throw' | 'reject' | 'up' = 'throw'
    transport.send = () => {
      if (mode === 'throw') throw new SSEError('TRANSPORT_UNAVAILABLE', 'down')
      if (mode === 'reject') return Promise.reject(new Error('lost in flight'))
    }
    const { broker, connect, errors } = await setup({ transport })
    const client = await connect('user:1')
    await waitFor(() => broker.stats().streams === 1)
    await expect(broker.disconnect({ tag: 'user:1' })).rejects.toMatchObject({
      code: 'TRANSPORT_UNAVAILABLE',
    })
    await client.ended()
    mode = 'reject'
    await expect(broker.disconnect({ tag: 'user:1' })).rejects.toMatchObject({
      code: 'TRANSPORT_ERROR',
    })
    mode = 'up'
    await expect(broker.disconnect({ tag: 'user:1' })).resolves.toBe(0)
    expect(errors.map((error) => error.code)).toEqual(['TRANSPORT_UNAVAILABLE'])
    expect(broker.stats()).toMatchObject({ revoked: 1, disconnectFailures: 2 })
  })
})

test('with no unhandledRejection handler, fire-and-forget disconnects through a failing transport never end the process', async () => {
  const run = await runIsolated(`
    import { createBroker, MemoryTransport, SSEError } from '@sse/core'

    let mode = 'throw'
    class Failing extends MemoryTransport {
      sendControl() {
        if (mode === 'throw') throw new SSEError('TRANSPORT_UNAVAILABLE', 'down')
        if (mode === 'reject') return Promise.reject(new SSEError('TRANSPORT_UNAVAILABLE', 'lost'))
        if (mode === 'garbage') return Promise.reject(new Error('not even an SSEError'))
        return Promise.resolve()
      }
    }
    const reported = []
    const broker = createBroker({ transport: new Failing(), keepAlive: 0, onError: (error) => reported.push(error.code) })
    let ticks = 0
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        ticks++
        mode = ticks < 20 ? 'throw' : ticks < 40 ? 'reject' : ticks < 60 ? 'up' : ticks < 80 ? 'garbage' : 'up'
        broker.disconnect({ tag: 'user:' + ticks }) // the promise is ignored
        if (ticks === 100) {
          clearInterval(timer)
          resolve()
        }
      }, 1)
    })
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
    console.log(JSON.stringify({ reported, stats: broker.stats() }))
    await broker.close()
  `)
  expect(run.stderr).not.toMatch(/nhandled/)
  expect(run.code).toBe(0)
  const { reported, stats } = JSON.parse(run.stdout.trim().split('\n').pop()!)
  expect(reported).toEqual(['TRANSPORT_UNAVAILABLE', 'TRANSPORT_ERROR'])
  expect(stats.disconnectFailures).toBe(59)
})
