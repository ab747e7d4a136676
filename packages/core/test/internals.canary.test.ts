import { OutgoingMessage, type ServerResponse } from 'node:http'
import { SSEStream, type SSEStreamOptions } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { listen, openSocket, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { chunkedBodySocket } from '../src/internals/chunkedSocketBody.js'

const cleanups = useCleanups()
afterEach(closeStreams)

const OWNER = 'packages/core/src/internals/chunkedSocketBody.ts'

/** The response of one real request, its head written as an SSE stream writes it. */
async function openResponse(
  request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
): Promise<ServerResponse> {
  let response: ServerResponse | undefined
  const server = await listen((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' })
    res.flushHeaders()
    response = res
  })
  cleanups.push(() => server.close())
  openSocket(cleanups, server.url, request)
  await waitFor(() => response !== undefined)
  cleanups.push(() => response!.end())
  return response!
}

describe(`canary: the private node:http details ${OWNER} reads (Node ${process.versions.node})`, () => {
  test('an HTTP/1.1 response with its head written: chunkedEncoding, finished, socket._httpMessage, writableLength', async () => {
    const res = await openResponse()
    const fields = res as unknown as Record<string, unknown>
    const socket = res.socket as unknown as Record<string, unknown>
    expect(fields.chunkedEncoding, `${OWNER}: ServerResponse#chunkedEncoding`).toBe(true)
    expect(fields.finished, `${OWNER}: ServerResponse#finished`).toBe(false)
    expect(socket._httpMessage, `${OWNER}: Socket#_httpMessage`).toBe(res)
    expect(res.write, `${OWNER}: OutgoingMessage.prototype.write`).toBe(
      OutgoingMessage.prototype.write,
    )
    expect(res.writableLength).toBe(res.socket!.writableLength)
    expect(chunkedBodySocket(res)).toBe(res.socket)
    res.end()
    expect(fields.finished, `${OWNER}: ServerResponse#finished after end()`).toBe(true)
  })

  test('HTTP/1.0 (no chunked body) and a wrapped write() fall back to the public path', async () => {
    const old = await openResponse('GET / HTTP/1.0\r\nHost: x\r\n\r\n')
    expect(chunkedBodySocket(old)).toBeNull()
    const wrapped = await openResponse()
    const write = wrapped.write
    wrapped.write = function (this: ServerResponse, ...args: Parameters<typeof write>) {
      return write.apply(this, args)
    } as typeof write
    expect(chunkedBodySocket(wrapped)).toBeNull()
  })
})

describe("writePath: 'response'", () => {
  /** The body a client reads from a stream with `options`, for the same frames. */
  async function bodyWith(options: SSEStreamOptions): Promise<{ text: string; direct: boolean }> {
    let stream: SSEStream | undefined
    const server = await listen((req, res) => {
      stream = new SSEStream(req, res, { keepAlive: 0, ...options })
    })
    cleanups.push(() => server.close())
    const client = await openStream(server.url, { raw: true })
    await waitFor(() => stream !== undefined)
    const socket = stream!.response.socket!
    let direct = false
    const write = socket.write
    // Observed from outside: a direct write reaches the socket with the chunk framing on it.
    socket.write = function (this: typeof socket, ...args: Parameters<typeof write>) {
      if (Buffer.isBuffer(args[0]) && /^[0-9a-f]+\r\nid: /.test(args[0].toString('latin1', 0, 20)))
        direct = true
      return write.apply(this, args)
    } as typeof write
    for (let i = 0; i < 50; i++) stream!.send({ id: String(i), data: `event ${i}\nline two` })
    for (let i = 0; i < 50; i++) {
      stream!.send({ id: String(50 + i), data: 'x'.repeat(i * 100) })
      await new Promise((resolve) => setImmediate(resolve))
    }
    await waitFor(() => client.text().includes('id: 99\n'))
    stream!.close()
    await client.ended()
    return { text: client.text(), direct }
  }

  test('puts the very same bytes on the wire as the direct path, through res.write()', async () => {
    const socketPath = await bodyWith({})
    const responsePath = await bodyWith({ writePath: 'response' })
    expect(socketPath.direct).toBe(true)
    expect(responsePath.direct).toBe(false)
    expect(responsePath.text).toBe(socketPath.text)
  })

  test('a value other than socket or response is INVALID_OPTION', () => {
    expect(() => new SSEStream({} as never, {} as never, { writePath: 'kernel' as never })).toThrow(
      /option "writePath" must be/,
    )
  })
})
