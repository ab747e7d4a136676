import { AssertionError } from 'node:assert'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as core from '@sse/core'
import { MemoryTransport, SSEError } from '@sse/core'
import type { Transport } from '@sse/core/kit'
import * as kit from '@sse/core/kit'
import * as testing from '@sse/testing'
import { closeStreams, openStream, SSETestError, TestStream } from '@sse/testing'
import * as transport from '@sse/testing/transport'
import { transportContract } from '@sse/testing/transport'
import { afterEach, describe, expect, test } from 'vitest'

afterEach(closeStreams)

/** A port on 127.0.0.1 that nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('the kit and the contract live in @sse/testing, not in @sse/core', () => {
  test('@sse/core and @sse/core/kit export nothing of the kit or the contract', () => {
    const moved = ['openStream', 'closeStreams', 'EventStreamParser', 'transportContract']
    for (const name of moved) {
      expect(Object.keys(core), `@sse/core exports ${name}`).not.toContain(name)
      expect(Object.keys(kit), `@sse/core/kit exports ${name}`).not.toContain(name)
    }
  })

  test('@sse/testing holds the kit, @sse/testing/transport the contract, neither the other', () => {
    expect(Object.keys(testing).sort()).toEqual([
      'EventStreamParser',
      'SSETestError',
      'TestStream',
      'closeStreams',
      'openStream',
    ])
    expect(Object.keys(transport)).toEqual(['transportContract'])
  })

  test('TestStream is a runtime value: what openStream returns is an instance of it', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.end('data: one\n\n')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const stream = await openStream(`http://127.0.0.1:${port}/`)
      expect(stream).toBeInstanceOf(TestStream)
      expect((await stream.take(1))[0]?.data).toBe('one')
      await stream.close()
    } finally {
      server.close()
    }
  })

  test('the old entry @sse/core/testing is gone: importing it fails', async () => {
    const specifier = '@sse/core/testing'
    await expect(import(/* @vite-ignore */ specifier)).rejects.toThrow()
  })
})

describe('what the kit cannot do is an SSETestError with a stable code', () => {
  test('a refused connection: TEST_REQUEST_FAILED, not an SSEError, its cause the socket error', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/events`
    const error = await openStream(url).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SSETestError)
    expect(error).not.toBeInstanceOf(SSEError)
    expect(error).toMatchObject({ name: 'SSETestError', code: 'TEST_REQUEST_FAILED' })
    expect((error as Error).message).toMatch(/^@sse\/testing: GET .* failed before a response/)
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' })
  })

  test.each([
    [null, 'null'],
    [42, 'number'],
    [{ listen: 'no' }, 'an object (Object)'],
    ['ftp://127.0.0.1/', '"ftp://127.0.0.1/"'],
  ])('garbage as a target (%o): INVALID_TEST_TARGET naming it', async (target, shown) => {
    const error = await openStream(target as never).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SSETestError)
    expect(error).toMatchObject({ code: 'INVALID_TEST_TARGET' })
    expect((error as Error).message).toContain(
      `@sse/testing: cannot open a stream against ${shown}`,
    )
  })

  test('garbage as an option is still core’s SSEError INVALID_OPTION, named for @sse/testing', async () => {
    const opening = openStream('http://127.0.0.1:9/', { record: 'yes' } as never)
    await expect(opening).rejects.toBeInstanceOf(SSEError)
    await expect(opening).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(opening).rejects.toThrow(/^@sse\/testing: option "record"/)
  })
})

describe('the contract against a transport that hangs', () => {
  test('create() that never settles: each check fails within the timeout, naming create()', async () => {
    const checks = transportContract({
      create: () => new Promise<Transport>(() => {}),
      resumesFromPublisherIds: true,
      timeout: 300,
    })
    const first = checks[0]!
    const error = await first.run().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AssertionError)
    expect((error as Error).message).toBe('create() did not settle within 300 ms')
  })

  test('close() that never settles fails "close() resolves", and other checks still settle', async () => {
    const create = (): Transport => {
      const inner = new MemoryTransport()
      return Object.assign(inner, { close: () => new Promise<void>(() => {}) })
    }
    const checks = transportContract({ create, resumesFromPublisherIds: true, timeout: 2000 })
    const closing = checks.find((check) => check.name.startsWith('close() resolves'))!
    const other = checks.find((check) => check.name.startsWith('replay from the newest id'))!
    const [closed, replayed] = await Promise.allSettled([closing.run(), other.run()])
    expect(closed).toMatchObject({ status: 'rejected' })
    const reason = (closed as PromiseRejectedResult).reason as Error
    expect(reason.message).toBe('close() did not settle within 2000 ms')
    expect(replayed).toEqual({ status: 'fulfilled', value: undefined })
  })
})

describe("the contract's options", () => {
  test('a factory that needs its options object as `this` is called on it', async () => {
    const options = {
      historySize: 3,
      made: 0,
      create(): Transport {
        this.made++
        return new MemoryTransport()
      },
      createWithHistorySize(historySize: number): Transport {
        this.made++
        return new MemoryTransport({ historySize: Math.min(historySize, this.historySize) })
      },
      resumesFromPublisherIds: true,
    }
    const checks = transportContract(options)
    const older = checks.find((check) => check.name.includes('older than the history'))!
    await older.run()
    expect(options.made).toBeGreaterThan(0)
  })
})
