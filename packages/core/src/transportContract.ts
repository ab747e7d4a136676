import assert from 'node:assert/strict'
import {
  describe,
  expectEvents,
  expectResets,
  frameFor,
  ids,
  type Open,
  runCheck,
  show,
  within,
} from './contractSession.js'
import { type CreatePeers, controlChecks } from './controlChecks.js'
import { SSEError } from './sseError.js'
import type { Delivery, OutgoingMessage, Transport } from './types.js'

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

/** One behaviour of the contract: a sentence naming it, and a run that throws when it does not hold. */
export interface ContractCheck {
  readonly name: string
  run(): Promise<void>
}

/** Ids no transport can resume from: the broker's marker for an unusable Last-Event-ID, and worse. */
const NOT_IDS = ['\u0000unusable', 'x'.repeat(300), '']

/** History kept by the transport of `createWithHistorySize`. */
const HISTORY_SIZE = 3

/**
 * The behaviour every {@link Transport} owes the broker, as checks that run in any test runner
 * (they throw `node:assert` errors). Each check creates its own transports, starts them with a
 * recording sink, and closes them when done. Where the `Transport` TSDoc is silent, the check's
 * name says what it expects. Throughout: a replay is asked for only once the events it covers were
 * delivered to the sink (a transport may leave out later ones, which reach the client live); a
 * replayed event may carry all its frames or only the one its subscribers get; and a healthy
 * transport reports no errors to its sink.
 *
 * Throws an {@link SSEError} `INVALID_OPTION` for bad options.
 *
 * @example
 * import { transportContract } from '@sse/core/kit'
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
  const createSmall =
    options.createWithHistorySize && (() => options.createWithHistorySize!(HISTORY_SIZE))
  const check = (name: string, body: (open: Open) => Promise<void>): ContractCheck => ({
    name,
    run: () => runCheck(body, create, timeout),
  })
  const checks: ContractCheck[] = [
    check(
      'delivers every published event to the sink exactly once, in publish order, under the id publish resolved to',
      async (open) => {
        const s = await open()
        const published: string[] = []
        const messages = [
          [['a']],
          [['b']],
          [['a', 'b']],
          [['c', 'a'], true],
          [['c'], true],
        ] as const
        for (const [topics, perTopic] of messages)
          published.push(await s.send(s.message(topics, perTopic)))
        assert.equal(
          new Set(published).size,
          published.length,
          `publish resolved to repeated ids: ${show(published)}`,
        )
        // Everything before the fence in id order has arrived, and a duplicate delivered meanwhile shows.
        const fence = await s.send(s.message(['fence']))
        await s.sink.delivered(fence)
        const got = s.sink.deliveries.map((delivery) => delivery.id)
        assert.deepEqual(got, [...published, fence], 'the ids delivered to the sink, in order')
      },
    ),
    check(
      'delivers events published concurrently in id order: the order a replay returns them',
      async (open) => {
        const s = await open()
        const start = await s.publish(['start'])
        const topics = ['a', 'b', 'c']
        // Each topic alone and with the next one, three times over: 18 publishes in flight at once.
        const sent = topics.flatMap((topic, i) => [[topic], [topic, topics[(i + 1) % 3]!]])
        sent.push(...sent, ...sent)
        const published = await Promise.all(sent.map((to) => s.send(s.message(to))))
        for (const id of published) await s.sink.delivered(id)
        const live = ids(s.sink.deliveries.slice(1))
        assert.deepEqual([...live].sort(), [...published].sort(), 'the ids delivered, each once')
        const replayed = await s.replay(topics, start.id)
        if (replayed.reset) assert.fail(`the replay of all topics answered ${describe(replayed)}`)
        assert.deepEqual(live, ids(replayed.deliveries), 'the live order against the replay order')
      },
    ),
    check(
      'writes each frame as "id: <id>\\n" and the body given: one frame per topic when a body is given per topic, else one shared frame',
      async (open) => {
        const s = await open()
        for (const [topics, perTopic] of [
          [['a']],
          [['a', 'b']],
          [['a', 'b'], true],
          [['c', 'a', 'b'], true],
        ] as const) {
          const message = s.message(topics, perTopic)
          const id = await s.send(message)
          const { topics: delivered, frames } = await s.sink.delivered(id)
          assert.deepEqual(delivered, topics, `the topics delivered with ${show(id)}`)
          const expected = message.bodies.map((body) => `id: ${id}\n${body}`)
          assert.deepEqual(frames.map(String), expected, `the frames of ${show(id)}`)
        }
      },
    ),
    check(
      'orders ids across topics: a replay of several topics returns their events in publish order, whatever order the topics are asked in',
      async (open) => {
        const s = await open()
        const start = await s.publish(['start'])
        const events: Delivery[] = []
        for (const topic of ['a', 'b', 'c', 'b', 'a']) events.push(await s.publish([topic]))
        await expectEvents(s, ['a', 'b', 'c'], start.id, events)
        await expectEvents(s, ['c', 'b', 'a'], start.id, events)
      },
    ),
    check(
      'replays exactly the events after an id on the requested topics, in id order, an event on several of them once, with the frame their subscribers get',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        const a = await s.publish(['a'])
        const b = await s.publish(['b'])
        const ab = await s.publish(['a', 'b'])
        const c = await s.publish(['c'])
        const bc = await s.publish(['b', 'c'], true)
        await expectEvents(s, ['a', 'b'], start.id, [a, b, ab, bc])
        await expectEvents(s, ['c'], start.id, [c, bc])
        await expectEvents(s, ['c', 'b'], b.id, [ab, c, bc])
        await expectEvents(s, ['a'], ab.id, [])
        await expectEvents(s, ['never-published'], start.id, [])
      },
    ),
    check('replay from the newest id answers no events, not a reset', async (open) => {
      const s = await open()
      await s.publish(['a'])
      const newest = await s.publish(['b'])
      await expectEvents(s, ['a', 'b'], newest.id, [])
      await expectEvents(s, ['a'], newest.id, [])
    }),
    check(
      'cursor() once started is an id to resume from: a replay from it answers no events, then exactly those published after it',
      async (open) => {
        const s = await open()
        const empty = s.transport.cursor()
        if (empty === undefined) assert.fail('cursor() answered undefined once start() settled')
        const first = await s.publish(['a'])
        const now = s.transport.cursor()
        if (now === undefined) assert.fail('cursor() answered undefined after a delivery')
        await expectEvents(s, ['a'], empty, [first])
        await expectEvents(s, ['a'], now, [])
        const next = await s.publish(['b', 'a'])
        await expectEvents(s, ['a', 'b'], now, [next])
      },
    ),
    check(
      'an id that is no id at all ("\\u0000unusable", 300 × "x", "") answers a reset whose headId resumes, before and after anything was published',
      async (open) => {
        const s = await open()
        const cases = NOT_IDS.map((id) => ({ lastEventId: id }))
        await expectResets(s, ['a'], cases, 'before any publish')
        await s.publish(['b'])
        await expectResets(s, ['a', 'b'], cases, 'after publishing')
      },
    ),
    check(
      'an id this transport never issued (the newest of another, isolated instance) answers a reset whose headId resumes, before and after anything was published',
      async (open) => {
        const s = await open()
        const other = await open()
        let foreign = (await other.publish(['a'])).id
        await expectResets(s, ['a'], [{ lastEventId: foreign }], 'before any publish')
        await s.publish(['a'])
        // More events than `s` ever published, so that ids made of a counter or a clock pass its own.
        for (let i = 0; i <= s.published; i++) foreign = (await other.publish(['a'])).id
        await expectResets(s, ['a'], [{ lastEventId: foreign }], 'after publishing')
      },
    ),
    ...(createSmall === undefined
      ? []
      : [
          check(
            `an id older than the history (historySize ${HISTORY_SIZE}) answers a reset whose headId resumes; the id just before the history replays it whole`,
            async (open) => {
              const s = await open(createSmall)
              const events: Delivery[] = []
              for (let i = 0; i < HISTORY_SIZE + 2; i++) events.push(await s.publish(['a']))
              await expectEvents(s, ['a'], events[1]!.id, events.slice(2))
              await expectResets(s, ['a'], [{ lastEventId: events[0]!.id }])
            },
          ),
        ]),
    check(
      'a replay over limits.maxEvents or limits.maxBytes answers a reset with capped: true whose headId resumes; one exactly at both limits is replayed whole',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        const events = [await s.publish(['a'])]
        await s.publish(['other']) // not replayed, so not counted
        // Only the frame written for 'a' counts, not the longer one of 'a-longer-topic'.
        events.push(await s.publish(['a-longer-topic', 'a'], true), await s.publish(['a']))
        const bytes = events.reduce((sum, event) => sum + frameFor(event, ['a']).length, 0)
        const exact = { maxEvents: events.length, maxBytes: bytes }
        await expectEvents(s, ['a'], start.id, events, exact)
        await expectResets(
          s,
          ['a'],
          [
            {
              lastEventId: start.id,
              limits: { ...exact, maxEvents: events.length - 1 },
              capped: true,
            },
            { lastEventId: start.id, limits: { ...exact, maxBytes: bytes - 1 }, capped: true },
          ],
        )
      },
    ),
    check(
      'hands the conflation key given at publish to the sink with its event (Delivery.key), and none with an unkeyed event',
      async (open) => {
        const s = await open()
        const keyed = await s.publish(['a'], false, 'cpu')
        const multi = await s.publish(['a', 'b'], true, 'price:ACME ✓')
        const plain = await s.publish(['a'])
        assert.equal(keyed.key, 'cpu', `the key delivered with ${show(keyed.id)}`)
        assert.equal(multi.key, 'price:ACME ✓', `the key delivered with ${show(multi.id)}`)
        assert.equal(plain.key, undefined, `the key delivered with unkeyed ${show(plain.id)}`)
      },
    ),
    check(
      'replays keyed events log-compacted: of those after the id with the same key and topic (the first of theirs asked for) only the newest, every unkeyed one, in id order',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        const cpu1 = await s.publish(['a'], false, 'cpu')
        const plain1 = await s.publish(['a'])
        const cpu2 = await s.publish(['a'], false, 'cpu')
        const memory = await s.publish(['a'], false, 'memory')
        const cpuOnB = await s.publish(['b'], false, 'cpu') // another topic: another thing
        const cpu3 = await s.publish(['a'], false, 'cpu')
        const plain2 = await s.publish(['a'])
        await expectEvents(s, ['a', 'b'], start.id, [plain1, memory, cpuOnB, cpu3, plain2])
        await expectEvents(s, ['a'], cpu1.id, [plain1, memory, cpu3, plain2])
        await expectEvents(s, ['a'], cpu2.id, [memory, cpu3, plain2])
        await expectEvents(s, ['a'], cpu3.id, [plain2])
        // Written for 'b' to a client of both topics, it is the newest 'cpu' of 'b', not of 'a'.
        const both = await s.publish(['b', 'a'], true, 'cpu')
        await expectEvents(s, ['a', 'b'], start.id, [plain1, memory, cpu3, plain2, both])
        await expectEvents(s, ['a'], start.id, [plain1, memory, plain2, both])
      },
    ),
    check(
      'applies limits to the compacted replay: ten updates of one key replay as one event under maxEvents 1; two keys over it answer a capped reset',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        let newest = start
        for (let i = 0; i < 10; i++) newest = await s.publish(['a'], false, 'cpu')
        const one = { maxEvents: 1, maxBytes: frameFor(newest, ['a']).length }
        await expectEvents(s, ['a'], start.id, [newest], one)
        await s.publish(['a'], false, 'memory')
        await expectResets(s, ['a'], [{ lastEventId: start.id, limits: one, capped: true }])
      },
    ),
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
      `@sse/core: transportContract option "${name}" must be ${expected}, got ${show(value)}`,
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
