import { createBroker, html, SSEError } from '@sse/core'
import { errorOf, runIsolated } from '@sse/testkit'
import { describe, expect, test } from 'vitest'

/** The code of the SSEError `fn` throws (anything else fails the test), or `undefined`. */
const codeOf = (fn: () => unknown) => errorOf(fn, SSEError)?.code

describe('publishing refuses programming errors synchronously with a coded error', () => {
  const broker = createBroker({ keepAlive: 0 })
  const publish = broker.publish.bind(broker) as (...args: unknown[]) => Promise<string>

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a boolean', true],
    ['an array', ['x']],
  ])('an event that is %s is INVALID_EVENT, never a TypeError or an empty event', (_, event) => {
    expect(codeOf(() => publish('t', event))).toBe('INVALID_EVENT')
  })

  test.each([
    ['a number', 5],
    ['null', null],
    ['an object', { topic: 't' }],
    ['an empty list', []],
    ['a list with a number', ['t', 5]],
  ])('a topic that is %s is INVALID_TOPIC', (_, topics) => {
    expect(codeOf(() => publish(topics, 'x'))).toBe('INVALID_TOPIC')
  })

  test('an id a client could not resume from is INVALID_EVENT_ID: over 256 characters, or control characters', () => {
    expect(codeOf(() => publish('t', { id: 'x'.repeat(257), data: 'x' }))).toBe('INVALID_EVENT_ID')
    expect(codeOf(() => publish('t', { id: 'a\tb', data: 'x' }))).toBe('INVALID_EVENT_ID')
    expect(codeOf(() => publish('t', { id: 'a\nb', data: 'x' }))).toBe('INVALID_EVENT_ID')
    expect(codeOf(() => publish('t', { id: 7, data: 'x' }))).toBe('INVALID_EVENT_ID')
    expect(codeOf(() => publish('t', { id: 'x'.repeat(256), data: 'x' }))).toBeUndefined()
  })

  test('an html fragment is published as data, unquoted', async () => {
    const own = createBroker({ keepAlive: 0 })
    await expect(own.publish('t', html`<li>${'a & b'}</li>` as never)).resolves.toMatch(/-1$/)
    await own.close()
  })

  test('publishing after close is BROKER_CLOSED', async () => {
    const closed = createBroker({ keepAlive: 0 })
    await closed.close()
    expect(codeOf(() => closed.publish('t', 'x'))).toBe('BROKER_CLOSED')
  })
})

test('with no unhandledRejection handler, fire-and-forget publishes through a failing transport never end the process', async () => {
  const run = await runIsolated(`
    import { createBroker, SSEError } from '@sse/core'

    let mode = 'throw'
    const transport = {
      start() {},
      publish() {
        if (mode === 'throw') throw new SSEError('TRANSPORT_UNAVAILABLE', 'down')
        if (mode === 'reject') return Promise.reject(new SSEError('TRANSPORT_UNAVAILABLE', 'lost in flight'))
        if (mode === 'garbage') return Promise.reject(new Error('not even an SSEError'))
        return Promise.resolve('1-1')
      },
      replay: () => ({ reset: false, deliveries: [] }),
      close() {},
    }
    const reported = []
    const broker = createBroker({ transport, keepAlive: 0, onError: (error) => reported.push(error.code) })
    let ticks = 0
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        ticks++
        mode = ticks < 20 ? 'throw' : ticks < 40 ? 'reject' : ticks < 60 ? 'up' : ticks < 80 ? 'garbage' : 'up'
        broker.publish('jobs', 'tick') // the promise is ignored, as in every example
        if (ticks === 100) {
          clearInterval(timer)
          resolve()
        }
      }, 1)
    })
    // Until every publish has settled, counted one way or the other.
    const settled = () => broker.stats().published + broker.stats().publishFailures === 100
    while (!settled()) await new Promise((resolve) => setImmediate(resolve))
    console.log(JSON.stringify({ reported, stats: broker.stats() }))
    await broker.close()
  `)
  expect(run.stderr).not.toMatch(/nhandled/)
  expect(run.code).toBe(0)
  const { reported, stats } = JSON.parse(run.stdout.trim().split('\n').pop()!)
  // One report per outage: the throw and reject phases are one outage; garbage is a second one.
  expect(reported).toEqual(['TRANSPORT_UNAVAILABLE', 'TRANSPORT_ERROR'])
  expect(stats.publishFailures).toBe(59)
  expect(stats.published).toBe(41)
})
