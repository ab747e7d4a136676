import type { AddressInfo } from 'node:net'
import { type HttpBindings, serve } from '@hono/node-server'
import { httpRequests, rawSocket, waitFor } from '@sse/testkit'
import { Hono } from 'hono'
import { expect, test, vi } from 'vitest'
import { alreadySentResponse } from '../src/internals/honoNodeSent.js'
import { honoNodeConnection } from '../src/internals/honoNodeSocket.js'

// What src/internals/honoNodeSocket.ts reads of @hono/node-server, on the version installed here:
// if this fails after an upgrade, the file's fallback (the signal alone) is what runs.
test('a @hono/node-server Request carries the connection it came on, and it closes when the client leaves', async () => {
  const app = new Hono()
  let connection: ReturnType<typeof honoNodeConnection>
  app.get('/', (c) => {
    connection = honoNodeConnection(c.req.raw)
    return c.text('ok')
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(listening),
    )
  })
  const { port } = server.address() as AddressInfo
  const client = rawSocket(`http://127.0.0.1:${port}`, httpRequests(1, 'GET', '/'))
  await waitFor(() => client.text().endsWith('ok'))
  expect(connection).toBeDefined()
  expect(connection!.destroyed).toBe(false)
  const closed = new Promise<void>((resolve) => connection!.once('close', resolve))
  client.destroy()
  await closed
  expect(connection!.destroyed).toBe(true)
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

test('any other Request has none: the fallback, the signal alone', () => {
  expect(honoNodeConnection(new Request('http://127.0.0.1/events'))).toBeUndefined()
  const lookalike = new Request('http://127.0.0.1/events')
  Object.defineProperty(lookalike, Symbol('incomingKey'), {
    value: { socket: { destroyed: 'no' } },
  })
  expect(honoNodeConnection(lookalike)).toBeUndefined()
})

// What src/internals/honoNodeSent.ts reads: with its globals on (the default), @hono/node-server's
// `Response` extends the runtime's, and writes a bodiless one of its own class itself, header or
// not; one of the runtime's class with `x-hono-already-sent` makes it write nothing.
test("@hono/node-server's global Response extends the runtime's; an already-sent answer of the runtime's class leaves Node's response to the handler", async () => {
  const app = new Hono<{ Bindings: HttpBindings }>()
  app.get('/own', (c) => {
    c.env.outgoing.writeHead(200, { 'content-type': 'text/plain' })
    c.env.outgoing.end('written by the handler')
    return alreadySentResponse()
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(listening),
    )
  })
  const { port } = server.address() as AddressInfo
  const errors = vi.spyOn(console, 'error')
  const fetched = await fetch(`http://127.0.0.1:${port}/own`)
  expect(await fetched.text()).toBe('written by the handler')
  expect(errors).not.toHaveBeenCalled()
  errors.mockRestore()
  // `fetch()` answers with the runtime's own Response class, whatever the global is now.
  const runtimeClass = Object.getPrototypeOf(fetched).constructor
  expect(globalThis.Response).not.toBe(runtimeClass)
  expect(Object.getPrototypeOf(globalThis.Response)).toBe(runtimeClass)
  expect(Object.getPrototypeOf(alreadySentResponse())).toBe(runtimeClass.prototype)
  await new Promise<void>((resolve) => server.close(() => resolve()))
})
