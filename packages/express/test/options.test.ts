import { type Broker, createBroker, SSEError } from '@sse/core'
import { sseMiddleware } from '@sse/express'
import { errorOf, useCleanups } from '@sse/testkit'
import { describe, expect, test } from 'vitest'

const cleanups = useCleanups()

describe('options', () => {
  test('an unknown option throws INVALID_OPTION naming the key', () => {
    const error = errorOf(() => sseMiddleware({ keepalive: 10 } as never), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toMatch(/^@sse\/express: unknown option "keepalive" \(known options: /)
  })

  test('an option of the wrong type throws INVALID_OPTION naming the key, the type and the value', () => {
    const error = errorOf(() => sseMiddleware({ keepAlive: 'soon' } as never), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toBe(
      '@sse/express: option "keepAlive" must be of type integer, got "soon"',
    )
  })

  test('shapeRequests is no option any more: it throws INVALID_OPTION as unknown, rather than being ignored', () => {
    const error = errorOf(() => sseMiddleware({ shapeRequests: true } as never), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toMatch(/^@sse\/express: unknown option "shapeRequests"/)
  })

  test('a broker option given together with a broker throws INVALID_OPTION', () => {
    const broker = createBroker()
    cleanups.push(() => broker.close())
    const error = errorOf(() => sseMiddleware({ broker, historySize: 10 } as never), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toBe(
      '@sse/express: option "historySize" cannot be combined with "broker"; give it to createBroker() instead',
    )
  })

  test('a broker that is not a broker throws INVALID_OPTION', () => {
    const error = errorOf(() => sseMiddleware({ broker: {} as Broker }), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toBe(
      '@sse/express: option "broker" must be an object with methods publish, stream, group, close, got an object',
    )
  })

  test('sse.close() is idempotent and answers the same promise', async () => {
    const sse = sseMiddleware()
    const closing = sse.close()
    expect(sse.close()).toBe(closing)
    await closing
    expect(sse.broker.isClosed).toBe(true)
  })
})
