import { AssertionError } from 'node:assert'
import { MemoryTransport } from '@sse/core'
import type { ControlMessage, Transport, TransportSink } from '@sse/core/kit'
import { transportContract } from '@sse/testing/transport'
import { describe, expect, test } from 'vitest'

/** A MemoryTransport whose control messages travel on an in-process bus shared with its peers. */
class BusTransport extends MemoryTransport implements Transport {
  readonly #bus: Set<BusTransport>
  sink: TransportSink | undefined
  /** Hands the message to the peers, from `sendControl()`; tests break it on purpose. */
  send: (message: ControlMessage) => void = (message) => {
    for (const peer of this.#bus) if (peer !== this) peer.sink?.control?.(message)
  }

  constructor(bus: Set<BusTransport>) {
    super()
    this.#bus = bus
    bus.add(this)
  }

  override start(sink: TransportSink): void {
    this.sink = sink
    super.start(sink)
  }

  sendControl(message: ControlMessage): Promise<void> {
    // Asynchronous, like a network: the message arrives after sendControl() returns.
    return new Promise((resolve) =>
      setImmediate(() => {
        this.send(message)
        resolve()
      }),
    )
  }

  override close(): void {
    this.#bus.delete(this)
    super.close()
  }
}

/** The control check, run against peers that `tamper` may break; resolves to how it ended. */
async function controlCheck(tamper: (transport: BusTransport) => void = () => {}) {
  const checks = transportContract({
    create: () => new MemoryTransport(),
    resumesFromPublisherIds: true,
    createPeers: () => {
      const bus = new Set<BusTransport>()
      const peers = [new BusTransport(bus), new BusTransport(bus)] as const
      for (const peer of peers) tamper(peer)
      return peers
    },
  })
  const check = checks.find((one) => one.name.startsWith('sendControl()'))
  expect(check).toBeDefined()
  return check!.run().then(
    () => 'passed',
    (error: unknown) => (error instanceof AssertionError ? error.message : error),
  )
}

describe('the contract checks the control channel between two peers', () => {
  test('peers that hand each message to the others only, and keep nothing, pass', async () => {
    expect(await controlCheck()).toBe('passed')
  })

  test('transports without sendControl pass: they have no control channel', async () => {
    const checks = transportContract({
      create: () => new MemoryTransport(),
      resumesFromPublisherIds: true,
      createPeers: () => [new MemoryTransport(), new MemoryTransport()],
    })
    for (const check of checks.filter((one) => one.name.startsWith('sendControl()'))) {
      await check.run()
    }
  })

  test('one that echoes a message to its sender fails "never to the sender’s"', async () => {
    const outcome = await controlCheck((transport) => {
      const send = transport.send
      transport.send = (message) => {
        send(message)
        transport.sink?.control?.(message)
      }
    })
    expect(outcome).toMatch(/the control messages the sender got/)
  })

  test('one that delivers a message twice fails', async () => {
    const outcome = await controlCheck((transport) => {
      const send = transport.send
      transport.send = (message) => {
        send(message)
        send(message)
      }
    })
    expect(outcome).toMatch(/the control messages the other instance got/)
  })

  test('one that carries control messages as events (into the history) fails "keeps nothing"', async () => {
    const outcome = await controlCheck((transport) => {
      const send = transport.send
      transport.send = (message) => {
        transport.publish({
          topics: message.tags,
          bodies: [`data: ${JSON.stringify(message)}\n\n`],
        })
        send(message)
      }
    })
    expect(outcome).toMatch(/events delivered to the sender/)
  })

  test('one that drops the frame of a message fails', async () => {
    const outcome = await controlCheck((transport) => {
      const send = transport.send
      transport.send = ({ type, tags }) => send({ type, tags })
    })
    expect(outcome).toMatch(/the control messages the other instance got/)
  })

  test('createPeers that is not a function is refused with INVALID_OPTION', () => {
    expect(() =>
      transportContract({
        create: () => new MemoryTransport(),
        resumesFromPublisherIds: true,
        createPeers: 'two' as never,
      }),
    ).toThrow('@sse/testing: transportContract option "createPeers" must be a function, got "two"')
  })
})
