import type { SSEError } from '@sse/core'
import type { Delivery, OutgoingMessage, TransportSink } from '@sse/core/kit'
import { redisTransport } from '@sse/redis'
import { useCleanups, waitFor } from '@sse/testkit'
import { Redis, type RedisOptions } from 'ioredis'
import { describe, expect, test } from 'vitest'
import { hasRedis, uniquePrefix, useRedis } from '../helpers.js'

/**
 * Holds back the replies of one command: the command runs in Redis when sent, and its caller gets
 * the answer once the gate opens. This is how a read is "on its way" for as long as a test needs.
 */
class Gate {
  /** Commands sent through the gate, and those Redis has answered. */
  sent = 0
  answered = 0
  #open: Promise<void> = Promise.resolve()
  #release: (() => void) | undefined

  close(): void {
    this.#open = new Promise((resolve) => {
      this.#release = resolve
    })
  }

  open(): void {
    this.#release?.()
  }

  hold(reply: Promise<unknown>): Promise<unknown> {
    this.sent++
    const open = this.#open
    return reply.then(async (value) => {
      this.answered++
      await open
      return value
    })
  }
}

/** Gates by command name, lower case; shared by a client and the connections it duplicates. */
type Gates = ReadonlyMap<string, Gate>

/** An ioredis client whose commands named in `gates` (its duplicates' too) answer through them. */
class GatedRedis extends Redis {
  readonly gates: Gates

  constructor(options: RedisOptions, gates: Gates) {
    super(options)
    this.gates = gates
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new GatedRedis({ ...this.options, ...override }, this.gates)
  }

  override sendCommand(...args: Parameters<Redis['sendCommand']>): unknown {
    const reply = super.sendCommand(...args)
    const gate = this.gates.get(args[0].name.toLowerCase())
    return gate === undefined ? reply : gate.hold(reply as Promise<unknown>)
  }
}

describe.runIf(hasRedis)('a topic followed while its partition is being read', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  test('the read on its way hands on nothing past where the new topic starts: its events come in id order, each once, under its own id', async () => {
    const xread = new Gate()
    const hmget = new Gate()
    const { hostname, port } = new URL(redis.url)
    const client = new GatedRedis(
      { host: hostname, port: Number(port) },
      new Map([
        ['xread', xread],
        ['hmget', hmget],
      ]),
    )
    const transport = redisTransport({
      client,
      closeClient: true,
      keyPrefix: uniquePrefix(),
      partitions: 1,
      topicHistory: 100,
      maxReaderLag: 0,
    })
    const deliveries: Delivery[] = []
    const errors: SSEError[] = []
    const sink: TransportSink = {
      deliver: (delivery) => deliveries.push(delivery),
      error: (error) => errors.push(error),
    }
    cleanups.push(async () => {
      xread.open()
      hmget.open()
      await transport.close()
    })
    await transport.start(sink)
    let n = 0
    const publish = (topics: readonly string[]): Promise<string> => {
      const message: OutgoingMessage = { topics, bodies: [`data: ${++n}\n\n`] }
      return transport.publish(message)
    }
    const delivered = (id: string) =>
      waitFor(() => deliveries.some((delivery) => delivery.id === id), `the delivery of ${id}`)

    await transport.follow?.(['a'], undefined)
    // The reader waits on a blocking read of topic a; the answer of the read after it is held.
    await waitFor(() => xread.sent === xread.answered + 1, 'a blocking read')
    xread.close()
    const sent = xread.sent
    const a0 = await publish(['a'])
    await delivered(a0)
    await waitFor(() => xread.sent === sent + 1, 'the next read')
    // Topic c is followed from the partition's head (its HMGET answer held), then c and a get an
    // event each: the read on its way answers with a's, which comes after c's.
    hmget.close()
    const following = transport.follow?.(['c'], undefined)
    const c1 = await publish(['c'])
    const a1 = await publish(['a'])
    await waitFor(() => xread.answered === sent + 1, 'the read to answer')
    // The head's answer (in before c1's, on the same connection) is handed on: c joins. Then the read's.
    hmget.open()
    await new Promise((resolve) => setImmediate(resolve))
    xread.open()
    await following
    const ac = await publish(['a', 'c'])
    const fence = await publish(['a'])
    await delivered(fence)

    expect(deliveries.map((delivery) => delivery.id)).toEqual([a0, c1, a1, ac, fence])
    expect(deliveries.map((delivery) => String(delivery.frames[0]).split('\n')[1])).toEqual([
      'data: 1',
      'data: 2',
      'data: 3',
      'data: 4',
      'data: 5',
    ])
    expect(errors).toEqual([])
  })
})
