import type { SSEError } from '@sse/core'
import type { Delivery, OutgoingMessage, TransportSink } from '@sse/core/kit'
import { redisTransport } from '@sse/redis'
import { useCleanups, waitFor } from '@sse/testkit'
import { Redis, type RedisOptions } from 'ioredis'
import { describe, expect, test } from 'vitest'
import { decodeCursor } from '../../src/partitioned/cursorVector.js'
import { hasRedis, uniquePrefix, useRedis } from '../helpers.js'

/** The arguments of a command, as ioredis sends them. */
type Args = readonly unknown[]

/**
 * Holds back the replies of one command: while closed, a command it is closed for runs in Redis
 * when sent, and its caller gets the answer once the gate opens. This is how a read is "on its way"
 * for as long as a test needs.
 */
class Gate {
  /** Commands held, and those of them Redis has answered. */
  held = 0
  answered = 0
  #when: ((args: Args) => boolean) | undefined
  #open: Promise<void> = Promise.resolve()
  #release: (() => void) | undefined

  /** Holds the commands sent from now on for which `when` holds. */
  close(when: (args: Args) => boolean = () => true): void {
    this.#when = when
    this.#open = new Promise((resolve) => {
      this.#release = resolve
    })
  }

  open(): void {
    this.#when = undefined
    this.#release?.()
  }

  pass(reply: Promise<unknown>, args: Args): Promise<unknown> {
    if (this.#when === undefined || !this.#when(args)) return reply
    this.held++
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
    const [command] = args
    const reply = super.sendCommand(...args)
    const gate = this.gates.get(command.name.toLowerCase())
    return gate === undefined ? reply : gate.pass(reply as Promise<unknown>, command.args)
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
    const w = await publish(['a'])
    await delivered(w)
    // Topic a is read from w (its position is the read's last argument) until a0 comes: the answer
    // of the read sent after that is held.
    const afterW = decodeCursor(w, 1)?.positions.get(0)
    xread.close((args) => String(args.at(-1)) !== afterW)
    const a0 = await publish(['a'])
    await delivered(a0)
    await waitFor(() => xread.held === 1, 'the next read')
    // Topic c is followed from the partition's head (its HMGET answer held), then c and a get an
    // event each: the read on its way answers with a's, which comes after c's.
    hmget.close()
    const following = transport.follow?.(['c'], undefined)
    const c1 = await publish(['c'])
    const a1 = await publish(['a'])
    await waitFor(() => xread.answered === 1, 'the read to answer')
    // The head's answer (in before c1's, on the same connection) is handed on: c joins. Then the read's.
    hmget.open()
    await new Promise((resolve) => setImmediate(resolve))
    xread.open()
    await following
    const ac = await publish(['a', 'c'])
    const fence = await publish(['a'])
    await delivered(fence)

    expect(deliveries.map((delivery) => delivery.id)).toEqual([w, a0, c1, a1, ac, fence])
    expect(deliveries.map((delivery) => String(delivery.frames[0]).split('\n')[1])).toEqual([
      'data: 1',
      'data: 2',
      'data: 3',
      'data: 4',
      'data: 5',
      'data: 6',
    ])
    expect(errors).toEqual([])
  })
})
