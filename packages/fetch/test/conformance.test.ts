import type { AddressInfo } from 'node:net'
import { type HttpBindings, serve } from '@hono/node-server'
import { createSSE, type FetchSSEOptions, type FetchStream } from '@sse/fetch'
import {
  type AdapterTestOptions,
  type Cleanups,
  describeAdapterConformance,
  invalidAdapterOptions,
  largestAdapterOptions,
} from '@sse/testkit'
import { Hono } from 'hono'
import { describe, expect, test } from 'vitest'

/** Hono on Node (`@hono/node-server`), listening on 127.0.0.1, port 0. */
function listenHono(
  app: Hono<{ Bindings: HttpBindings }>,
): Promise<{ origin: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve(
      { fetch: app.fetch, port: 0, hostname: '127.0.0.1' },
      (info: AddressInfo) => {
        resolve({
          origin: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              if ('closeAllConnections' in server) server.closeAllConnections()
              server.close(() => done())
            }),
        })
      },
    )
  })
}

/** The conformance app: Hono on Node, its streams through the web `Response` or on `c.env`. */
function conformanceApp(direct: boolean) {
  return async (options: AdapterTestOptions, cleanups: Cleanups) => {
    const sse = createSSE(options as FetchSSEOptions)
    const app = new Hono<{ Bindings: HttpBindings }>()
    let handled = 0
    const streams: FetchStream['stream'][] = []
    app.on(['GET', 'HEAD'], '/events', (c) => {
      handled++
      const topics = c.req.query('topics')
      const name = c.req.query('name')
      const { stream, response } = sse.open(c.req.raw, {
        topics: topics === undefined ? ['t'] : topics.split(','),
        ...(name !== undefined && { headers: { 'x-name': name } }),
        ...(direct && { node: c.env }),
      })
      streams.push(stream)
      return response
    })
    const server = await listenHono(app)
    cleanups.push(
      () => server.close(),
      () => sse.close(),
    )
    return { broker: sse.broker, origin: server.origin, streams, handled: () => handled }
  }
}

describeAdapterConformance('@sse/fetch on Hono (Node)', {
  // @hono/node-server hands every pipelined request to the app at once.
  pipelining: 'concurrent',
  start: conformanceApp(false),
})

// With `node: c.env`, a stream writes to Node's response: pipelined requests wait for their turn
// on the connection, as on node:http.
describeAdapterConformance("@sse/fetch on Hono (Node), writing to Node's response (node: c.env)", {
  start: conformanceApp(true),
})

describe('options are refused by createSSE() with INVALID_OPTION naming the key', () => {
  test.each(invalidAdapterOptions)(
    '%s set to %o throws with a message naming the key',
    (key, value) => {
      expect(() => createSSE({ [key]: value } as FetchSSEOptions)).toThrow(
        expect.objectContaining({
          name: 'SSEError',
          code: 'INVALID_OPTION',
          message: expect.stringMatching(new RegExp(`^@sse/fetch: option "${key}" must be `)),
        }),
      )
    },
  )

  test('the largest timer values and integer limits are accepted', async () => {
    const sse = createSSE(largestAdapterOptions as FetchSSEOptions)
    await sse.close()
  })
})
