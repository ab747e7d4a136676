import { type SSEMiddlewareOptions, type SSEStream, sseMiddleware } from '@sse/express'
import {
  describeAdapterConformance,
  invalidAdapterOptions,
  largestAdapterOptions,
  listen,
} from '@sse/testkit'
import express5 from 'express'
import express4 from 'express4'
import { describe, expect, test } from 'vitest'

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('%s', (_, express) => {
  describeAdapterConformance('@sse/express', {
    async start(options, cleanups) {
      const sse = sseMiddleware(options as SSEMiddlewareOptions)
      const app = express()
      app.use(sse)
      let handled = 0
      const streams: SSEStream[] = []
      app.get('/events', (req, res) => {
        handled++
        const { topics, name } = req.query
        streams.push(
          res.sse({
            topics: typeof topics === 'string' ? topics.split(',') : ['t'],
            ...(typeof name === 'string' && { headers: { 'x-name': name } }),
          }),
        )
      })
      const server = await listen(app)
      cleanups.push(
        () => server.close(),
        () => sse.close(),
      )
      return { broker: sse.broker, origin: server.url, streams, handled: () => handled }
    },
  })
})

describe('options are refused by sseMiddleware() with INVALID_OPTION naming the key', () => {
  test.each(invalidAdapterOptions)(
    '%s set to %o throws with a message naming the key',
    (key, value) => {
      expect(() => sseMiddleware({ [key]: value } as SSEMiddlewareOptions)).toThrow(
        expect.objectContaining({
          name: 'SSEError',
          code: 'INVALID_OPTION',
          message: expect.stringMatching(new RegExp(`^@sse/express: option "${key}" must be `)),
        }),
      )
    },
  )

  test('the largest timer values and integer limits are accepted', async () => {
    const sse = sseMiddleware(largestAdapterOptions)
    await sse.close()
  })
})
