import assert from 'node:assert/strict'
import { SSEError } from '@sse/core'
import type { OutgoingMessage, Transport } from '@sse/core/kit'
import { conflationChecks } from './conflationChecks.js'
import type { ContractCheck, DefineCheck } from './contractCheck.js'
import { expectEvents, expectResets, runCheck, show, within } from './contractSession.js'
import { type CreatePeers, controlChecks } from './controlChecks.js'
import { deliveryChecks } from './deliveryChecks.js'
import { followChecks } from './followChecks.js'
import { replayChecks } from './replayChecks.js'

/** Options of {@link transportContract}: how to make the transport under test, and what it can do. */
export interface TransportContractOptions {
  /**
   * Creates a fresh, isolated transport, not started (for Redis: a new key prefix). Each check
   * creates its own, starts it with a recording sink and closes it at the end. It must keep at
   * least 20 events per topic for replay.
   */
  create(): Transport | Promise<Transport>
  /**
   * Like `create`, but keeping only `historySize` events per topic, so that a client further behind
   * gets a reset. Without it, the check of an id older than the history is left out.
   */
  createWithHistorySize?(historySize: number): Transport | Promise<Transport>
  /**
   * Whether a client can resume from an id the publisher chose ({@link OutgoingMessage.id}).
   * `true`: replaying from it returns exactly the later events. `false`: it answers a reset whose
   * `headId` the client resumes from. Never an empty answer, which would hide the later events.
   * `MemoryTransport` resumes from them; `@sse/redis` can look up only stream ids, so it resets.
   */
  resumesFromPublisherIds: boolean
  /**
   * Two transports that share their events, not started (for Redis: the same key prefix), to check
   * {@link Transport.sendControl}. Without it, that check is left out.
   */
  createPeers?: CreatePeers
  /**
   * Longest wait in ms for each step: create, start, one delivery, one replay, close.
   * @default 5000
   */
  timeout?: number
}

/** History kept by the transport of `createWithHistorySize`. */
const HISTORY_SIZE = 3

/**
 * The behaviour every {@link Transport} owes the broker, as checks that run in any test runner
 * (they throw `node:assert` errors). Each check creates its own transports, starts them with a
 * recording sink, and closes them when done. Where the `Transport` TSDoc is silent, the check's
 * name says what it expects. Throughout: a transport with `follow` is asked to follow the topics
 * of each publish and replay first, as the broker's streams would, and to unfollow them on close;
 * a replay is asked for only once the events it covers were delivered to the sink (a transport may
 * leave out later ones, which reach the client live); a replayed event may carry all its frames or
 * only the one its subscribers get; and a healthy transport reports no errors to its sink.
 *
 * Throws an {@link SSEError} `INVALID_OPTION` for bad options.
 *
 * @example
 * import { transportContract } from '@sse/testing/transport'
 * import { test } from 'vitest' // or node:test, or any runner
 *
 * for (const check of transportContract({ create: () => new MyTransport(), resumesFromPublisherIds: true })) {
 *   test(check.name, check.run)
 * }
 */
export function transportContract(options: TransportContractOptions): ContractCheck[] {
  assertOptions(options)
  const { resumesFromPublisherIds, timeout = 5000 } = options
  const create = () => options.create()
  const small = options.createWithHistorySize && {
    historySize: HISTORY_SIZE,
    create: () => options.createWithHistorySize!(HISTORY_SIZE),
  }
  const check: DefineCheck = (name, body) => ({
    name,
    run: () => runCheck(body, create, timeout),
  })
  const checks: ContractCheck[] = [
    ...deliveryChecks(check),
    ...replayChecks(check, small),
    ...conflationChecks(check),
    ...followChecks(check, timeout),
    check(
      resumesFromPublisherIds
        ? 'an event published with its own id carries it on the wire, and a client resumes from that id: replay returns exactly the later events'
        : 'an event published with its own id carries it on the wire, and resuming from that id answers a reset whose headId resumes (resumesFromPublisherIds: false), never an empty answer',
      async (open) => {
        const s = await open()
        const before = await s.publish(['a'])
        const message = s.message(['a'], false, 'order-7')
        assert.equal(await s.send(message), 'order-7', 'publish resolves to the id given')
        const own = await s.sink.delivered('order-7')
        assert.deepEqual(own.frames.map(String), [`id: order-7\n${message.bodies[0]}`])
        const later = [await s.publish(['a']), await s.publish(['b'])]
        // The transport's own ids still resume across an event with the publisher's id.
        await expectEvents(s, ['a', 'b'], before.id, [own, ...later])
        if (resumesFromPublisherIds) await expectEvents(s, ['a', 'b'], 'order-7', later)
        else await expectResets(s, ['a', 'b'], [{ lastEventId: 'order-7' }])
      },
    ),
    check(
      'close() resolves, and a closed transport delivers nothing more, even when published to',
      async (open) => {
        const s = await open()
        await s.publish(['a'])
        await s.close()
        const count = s.sink.deliveries.length
        // Publishing to a closed transport may throw, reject or resolve: it must not deliver.
        await within(() => s.transport.publish(s.message(['a'])), timeout, 'publish()').catch(
          () => {},
        )
        for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve))
        const late = s.sink.deliveries.slice(count).map((delivery) => delivery.id)
        assert.deepEqual(late, [], 'events delivered after close()')
      },
    ),
    check(
      'historyStats(), where implemented, is all 0 for an empty history and counts topics, events (once per topic) and bytes as events are published',
      async (open) => {
        const s = await open()
        if (s.transport.historyStats === undefined) return
        const stats = () => s.transport.historyStats!()
        const empty = stats()
        assert.deepEqual(
          [empty.topics, empty.events, empty.bytes],
          [0, 0, 0],
          'topics, events, bytes',
        )
        let bytes = 0
        const steps = [
          [['a', 'b'], 2, 2],
          [['c'], 3, 3],
          [['a'], 3, 4],
        ] as const
        for (const [published, topics, events] of steps) {
          await s.publish(published)
          const now = stats()
          const what = `after publishing to ${show(published)}`
          assert.equal(now.topics, topics, `topics ${what}`)
          assert.equal(now.events, events, `events ${what}`)
          assert.ok(now.bytes > bytes, `bytes ${what}: ${now.bytes}, up from ${bytes}`)
          bytes = now.bytes
        }
      },
    ),
  ]
  if (options.createPeers !== undefined) checks.push(...controlChecks(options.createPeers, timeout))
  return checks
}

function assertOptions(options: TransportContractOptions): void {
  const bad = (name: string, expected: string, value: unknown) =>
    new SSEError(
      'INVALID_OPTION',
      `@sse/testing: transportContract option "${name}" must be ${expected}, got ${show(value)}`,
    )
  if (typeof options?.create !== 'function') throw bad('create', 'a function', options?.create)
  const { createWithHistorySize, createPeers, resumesFromPublisherIds, timeout } = options
  if (createWithHistorySize !== undefined && typeof createWithHistorySize !== 'function') {
    throw bad('createWithHistorySize', 'a function', createWithHistorySize)
  }
  if (createPeers !== undefined && typeof createPeers !== 'function') {
    throw bad('createPeers', 'a function', createPeers)
  }
  if (typeof resumesFromPublisherIds !== 'boolean') {
    throw bad('resumesFromPublisherIds', 'a boolean', resumesFromPublisherIds)
  }
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
    throw bad('timeout', 'a positive number (ms)', timeout)
  }
}
