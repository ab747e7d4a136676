import assert from 'node:assert/strict'
import type { SSEError } from '@sse/core'
import type {
  ControlMessage,
  Delivery,
  OutgoingMessage,
  ReplayLimits,
  ReplayResult,
  Transport,
  TransportSink,
} from '@sse/core/kit'

/** The broker's default replay caps: roomy for every replay the checks ask for. */
export const ROOMY: ReplayLimits = { maxEvents: 1000, maxBytes: 1024 * 1024 }

/** Records what a transport delivers; checks await deliveries with a bounded wait, never a sleep. */
export class RecordingSink implements TransportSink {
  readonly deliveries: Delivery[] = []
  readonly errors: SSEError[] = []
  /** Control messages received from other instances (see {@link Transport.sendControl}). */
  readonly controls: ControlMessage[] = []
  readonly #timeout: number
  readonly #waiters = new Set<() => void>()

  constructor(timeout: number) {
    this.#timeout = timeout
  }

  deliver(delivery: Delivery): void {
    this.deliveries.push(delivery)
    for (const waiter of [...this.#waiters]) waiter()
  }

  error(error: SSEError): void {
    this.errors.push(error)
  }

  control(message: ControlMessage): void {
    this.controls.push(message)
    for (const waiter of [...this.#waiters]) waiter()
  }

  /** Resolves once `count` control messages arrived; fails after the timeout, saying what did. */
  controlled(count: number): Promise<void> {
    if (this.controls.length >= count) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (this.controls.length < count) return
        clearTimeout(timer)
        this.#waiters.delete(waiter)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(
          new assert.AssertionError({
            message: `${count} control message(s) did not reach the sink within ${this.#timeout} ms (received: ${show(this.controls)})`,
          }),
        )
      }, this.#timeout)
      this.#waiters.add(waiter)
    })
  }

  /** Resolves to the delivery of `id` once it arrived; fails after the timeout, saying what did. */
  delivered(id: string): Promise<Delivery> {
    const find = () => this.deliveries.find((delivery) => delivery.id === id)
    const found = find()
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const waiter = () => {
        const delivery = find()
        if (delivery === undefined) return
        clearTimeout(timer)
        this.#waiters.delete(waiter)
        resolve(delivery)
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        const got = show(this.deliveries.map((delivery) => delivery.id))
        const errors = this.errors.map((error) => error.message).join('; ') || 'none'
        reject(
          new assert.AssertionError({
            message: `event ${show(id)} was not delivered to the sink within ${this.#timeout} ms (delivered: ${got}; sink errors: ${errors})`,
          }),
        )
      }, this.#timeout)
      this.#waiters.add(waiter)
    })
  }
}

/** One transport under test, started with a {@link RecordingSink}. */
export class Session {
  readonly transport: Transport
  readonly sink: RecordingSink
  /** Events this session published (for a foreign transport to outnumber). */
  published = 0
  readonly #timeout: number
  #count = 0
  #closed: Promise<void> | undefined
  /** The topics of each `follow` call not unfollowed yet, as the streams of a broker would hold them. */
  readonly #follows: (readonly string[])[] = []

  constructor(transport: Transport, timeout: number) {
    this.transport = transport
    this.sink = new RecordingSink(timeout)
    this.#timeout = timeout
  }

  start(): Promise<void> {
    return within(() => this.transport.start(this.sink), this.#timeout, 'start()')
  }

  /** A message with a body unique in this session: one shared, or one per topic; keyed with `key`. */
  message(topics: readonly string[], perTopic = false, id?: string, key?: string): OutgoingMessage {
    const n = ++this.#count
    const bodies = perTopic
      ? topics.map((topic) => `event: ${topic}\ndata: ${n} ✓ ${'.'.repeat(n)}\n\n`)
      : [`data: ${n} ✓\n\n`]
    const message: { topics: readonly string[]; bodies: string[]; id?: string; key?: string } = {
      topics,
      bodies,
    }
    if (id !== undefined) message.id = id
    if (key !== undefined) message.key = key
    return message
  }

  /**
   * Where the transport implements {@link Transport.follow}: follows `topics` as a stream opening
   * with `lastEventId` would, until {@link unfollow} (or close). Without it, does nothing.
   */
  async follow(topics: readonly string[], lastEventId?: string): Promise<void> {
    const { transport } = this
    if (transport.follow === undefined) return
    this.#follows.push(topics)
    const what = `follow(${show(topics)}, ${show(lastEventId)})`
    await within(() => transport.follow!(topics, lastEventId), this.#timeout, what)
  }

  /** Ends the follow of `topics` (the same array given to {@link follow}), as its stream ending would. */
  unfollow(topics: readonly string[]): void {
    const index = this.#follows.indexOf(topics)
    if (index === -1) return
    this.#follows.splice(index, 1)
    this.transport.unfollow?.(topics)
  }

  /** Whether a follow not ended yet holds `topic`. */
  following(topic: string): boolean {
    return this.#follows.some((topics) => topics.includes(topic))
  }

  /**
   * Publishes `message`, first following its topics that no follow holds, as a subscriber of them
   * would have (`follow: false` publishes as is: to topics no stream of this instance wants).
   */
  async send(message: OutgoingMessage, follow = true): Promise<string> {
    const missing = follow ? message.topics.filter((topic) => !this.following(topic)) : []
    if (missing.length > 0) await this.follow(missing)
    const id = await within(() => this.transport.publish(message), this.#timeout, 'publish()')
    this.published++
    return id
  }

  /** Publishes (keyed with `key`) and waits for the delivery. */
  async publish(topics: readonly string[], perTopic = false, key?: string): Promise<Delivery> {
    return this.sink.delivered(await this.send(this.message(topics, perTopic, undefined, key)))
  }

  /** Replays as a stream resuming from `lastEventId` would: it follows `topics` first (till close). */
  async replay(
    topics: readonly string[],
    lastEventId: string,
    limits = ROOMY,
  ): Promise<ReplayResult> {
    await this.follow(topics, lastEventId)
    const what = `replay(${show(topics)}, ${show(lastEventId)})`
    return within(() => this.transport.replay(topics, lastEventId, limits), this.#timeout, what)
  }

  /** Ends every follow still held, as a closing broker ends its streams, then closes the transport. */
  close(): Promise<void> {
    this.#closed ??= Promise.resolve()
      .then(() => {
        for (const topics of [...this.#follows]) this.unfollow(topics)
      })
      .then(() => within(() => this.transport.close(), this.#timeout, 'close()'))
    return this.#closed
  }
}

/** Opens a session on `create()`'s transport, or on another factory's. */
export type Open = (create?: () => Transport | Promise<Transport>) => Promise<Session>

export async function runCheck(
  body: (open: Open) => Promise<void>,
  create: () => Transport | Promise<Transport>,
  timeout: number,
): Promise<void> {
  const sessions: Session[] = []
  const open: Open = async (factory = create) => {
    const session = new Session(await within(factory, timeout, 'create()'), timeout)
    sessions.push(session)
    await session.start()
    return session
  }
  try {
    await body(open)
    for (const { sink } of sessions) {
      const errors = sink.errors.map((error) => error.message)
      assert.deepEqual(errors, [], 'errors the transport reported to its sink')
    }
  } finally {
    await Promise.allSettled(sessions.map((session) => session.close()))
  }
}

/** Asserts that a replay from `lastEventId` answers exactly `expected` (deliveries seen live). */
export async function expectEvents(
  s: Session,
  topics: readonly string[],
  lastEventId: string,
  expected: readonly Delivery[],
  limits = ROOMY,
  context = '',
): Promise<void> {
  const what = `${context}replay(${show(topics)}, ${show(lastEventId)}, ${show(limits)})`
  const result = await s.replay(topics, lastEventId, limits)
  if (result.reset) assert.fail(`${what} answered ${describe(result)}, not ${show(ids(expected))}`)
  assert.deepEqual(ids(result.deliveries), ids(expected), `the ids ${what} answered`)
  result.deliveries.forEach((delivery, i) => {
    const live = expected[i]!
    assert.deepEqual(delivery.topics, live.topics, `the topics of ${show(live.id)} in ${what}`)
    const frame = String(frameFor(delivery, topics))
    assert.equal(frame, String(frameFor(live, topics)), `the frame of ${show(live.id)} in ${what}`)
  })
}

export interface ResetCase {
  readonly lastEventId: string
  readonly limits?: ReplayLimits
  readonly capped?: boolean
}

/**
 * Asserts that each replay answers a reset (capped or not, as given), and that its `headId` resumes:
 * a replay from it answers no events, then exactly the one event published next.
 */
export async function expectResets(
  s: Session,
  topics: readonly string[],
  cases: readonly ResetCase[],
  when = '',
): Promise<void> {
  const heads: Array<readonly [head: string, what: string]> = []
  for (const { lastEventId, limits = ROOMY, capped = false } of cases) {
    const what = `replay(${show(topics)}, ${show(lastEventId)}, ${show(limits)})${when && ` ${when}`}`
    const result = await s.replay(topics, lastEventId, limits)
    if (!result.reset) assert.fail(`${what} answered ${describe(result)}, not a reset`)
    assert.equal(result.capped === true, capped, `whether the reset of ${what} is capped`)
    assert.equal(typeof result.headId, 'string', `the headId of ${what}`)
    heads.push([result.headId, `(resuming from the headId of ${what}) `])
  }
  for (const [head, what] of heads) await expectEvents(s, topics, head, [], ROOMY, what)
  const next = await s.publish([topics[0]!])
  for (const [head, what] of heads) await expectEvents(s, topics, head, [next], ROOMY, what)
}

/** The frame a subscriber of `topics` gets for `delivery` (the broker's rule): that of its first topic among them. */
export function frameFor(delivery: Delivery, topics: readonly string[]): Buffer {
  const { frames } = delivery
  const index = frames.length === 1 ? 0 : delivery.topics.findIndex((t) => topics.includes(t))
  const frame = frames[index]
  if (frame === undefined) {
    assert.fail(`${show(delivery.id)} has no frame for ${show(topics)} (${frames.length} frames)`)
  }
  return frame
}

/** Runs `step` (sync or async), failing when it takes longer than `timeout` ms. */
export function within<TResult>(
  step: () => TResult | Promise<TResult>,
  timeout: number,
  what: string,
): Promise<TResult> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new assert.AssertionError({ message: `${what} did not settle within ${timeout} ms` }))
    }, timeout)
  })
  return Promise.race([Promise.resolve().then(step), late]).finally(() => clearTimeout(timer))
}

export function ids(deliveries: readonly Delivery[]): string[] {
  return deliveries.map((delivery) => delivery.id)
}

export function describe(result: ReplayResult): string {
  if (!result.reset) return `the events ${show(ids(result.deliveries))}`
  return `a reset${result.capped === true ? ' (capped)' : ''} to ${show(result.headId)}`
}

export function show(value: unknown): string {
  const text = JSON.stringify(value, (_, v) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v))
  return text ?? String(value)
}
