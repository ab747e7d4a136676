import { createBroker, SSEError, SSEStream } from '@sse/core'
import { errorOf } from '@sse/testkit'
import { describe, expect, test } from 'vitest'

describe('every option that is accepted works: the rest is INVALID_OPTION naming the key', () => {
  test.each([
    ['keepAlive', { keepAlive: 2 ** 31 }],
    ['retry', { retry: 2 ** 31 }],
    ['historyMaxAge', { historyMaxAge: 2 ** 31 }],
    ['resetEvent', { resetEvent: 'a\nb' }],
    ['resetEvent', { resetEvent: 'a\rb' }],
    ['resetEvent', { resetEvent: '' }],
    ['headers', { headers: { 'bad name': 'x' } }],
    ['headers', { headers: { 'x-ok': 'line\nbreak' } }],
    ['headers', { headers: { 'x-ok': '✓' } }],
    ['headers', { headers: { 'x-ok': { nested: true } } }],
    ['maxTopicsPerStream', { maxTopicsPerStream: 0 }],
    ['maxReplayEvents', { maxReplayEvents: -1 }],
    ['maxReplayBytes', { maxReplayBytes: 1.5 }],
    ['historyMaxBytes', { historyMaxBytes: 0 }],
    ['maxBufferedBytes', { maxBufferedBytes: 0 }],
  ])('createBroker refuses a bad %s', (key, options) => {
    const error = errorOf(() => createBroker(options as never), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toContain(`"${key}`)
  })

  test('the largest timer Node can run is accepted', async () => {
    const broker = createBroker({ keepAlive: 2 ** 31 - 1, historyMaxAge: 2 ** 31 - 1 })
    await broker.close()
  })

  test('history options next to a transport are refused, historyMaxBytes included', () => {
    const transport = {
      start() {},
      publish: () => '1',
      replay: () => ({ reset: false as const, deliveries: [] }),
      cursor: () => undefined,
      close() {},
    }
    expect(
      errorOf(() => createBroker({ transport, historyMaxBytes: 1024 }), SSEError)?.message,
    ).toContain('"historyMaxBytes"')
  })

  test('a stream of your own refuses a keep-alive Node would run every millisecond', () => {
    const error = errorOf(
      () => new SSEStream({} as never, {} as never, { keepAlive: 2 ** 32 }),
      SSEError,
    )
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toContain('"keepAlive"')
  })
})
