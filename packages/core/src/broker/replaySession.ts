import { type KeyedResult, REPLACED, SENT } from '../conflation/keyedSlots.js'
import { diagnostics } from '../diagnostics.js'
import { type HeldFrame, handOff } from '../history/replayHandoff.js'
import { SSEError } from '../sseError.js'
import type { BrokerCounters } from '../subscribers/brokerCounters.js'
import { countConflated } from '../subscribers/brokerCounters.js'
import type { Subscriber } from '../subscribers/subscriber.js'
import type { ReplayLimits, ReplayResult, SSEEvent, Transport } from '../types.js'
import { encodeEvent } from '../wire/serializeEvent.js'
import { asTransportError } from './errorReports.js'
import { isThenable } from './isThenable.js'

/** What a replay needs of the broker. */
export interface ReplayContext {
  /** The broker, as diagnostics messages name it. */
  readonly broker: object
  readonly transport: Transport
  readonly limits: ReplayLimits
  readonly resetEvent: string
  /** Ms a snapshot may take before the reset event is sent instead. */
  readonly snapshotTimeout: number
  readonly counters: BrokerCounters
  report(error: SSEError): void
}

/**
 * Brings a subscriber that came back with `lastEventId` up to date: live events are held while the
 * transport answers, then the replay (or the reset event) goes out, then the held events (see
 * {@link handOff}). Never throws: a failing transport closes the stream so the client retries.
 */
export function replayTo(
  context: ReplayContext,
  subscriber: Subscriber,
  lastEventId: string,
): void {
  subscriber.startHolding(lastEventId)
  let result: ReplayResult | Promise<ReplayResult>
  let pending = false
  try {
    result = context.transport.replay(subscriber.topics, lastEventId, context.limits)
    pending = isThenable(result)
  } catch (cause) {
    failed(context, subscriber, cause)
    return
  }
  if (!pending) {
    answered(context, subscriber, lastEventId, result as ReplayResult)
    return
  }
  Promise.resolve(result).then(
    (answer) => answered(context, subscriber, lastEventId, answer),
    (cause: unknown) => failed(context, subscriber, cause),
  )
}

function answered(
  context: ReplayContext,
  subscriber: Subscriber,
  lastEventId: string,
  result: ReplayResult,
  withSnapshot = true,
): void {
  if (
    withSnapshot &&
    result.reset &&
    subscriber.snapshot !== undefined &&
    !subscriber.stream.isClosed
  ) {
    snapshotTo(context, subscriber, lastEventId, result)
    return
  }
  const held = subscriber.stopHolding()
  const stream = subscriber.stream
  if (stream.isClosed) return
  const counters = context.counters
  try {
    const plan = handOff(result, held, lastEventId, (d) => subscriber.frameOf(d), context.limits)
    const reset = plan.reset
    if (reset !== undefined) {
      counters.resets++
      if (reset.capped) counters.replaysCapped++
      const event = context.resetEvent
      stream.sendFrame(
        encodeEvent(
          reset.headId === '' ? { event, data: '' } : { id: reset.headId, event, data: '' },
        ),
      )
    } else if (plan.replay.length > 0) {
      counters.replayed += plan.replay.length
      stream.sendReplay(plan.replay)
    }
    // `plan.live` is a subsequence of `held`, same buffers: walk both to find each frame's token.
    let h = 0
    for (const frame of plan.live) {
      while (held[h]!.frame !== frame) h++
      count(context, stream, sendHeld(stream, held[h]!))
    }
    if (diagnostics.replay.hasSubscribers) {
      diagnostics.replay.publish({
        broker: context.broker,
        stream,
        count: plan.replay.length,
        reset: reset !== undefined,
        capped: reset?.capped === true,
      })
    }
  } catch (cause) {
    failed(context, subscriber, cause)
  }
}

/** Sends a held live frame on, still keyed: the client is behind its replay, so it may conflate. */
function sendHeld(stream: Subscriber['stream'], held: HeldFrame): KeyedResult {
  if (held.token === undefined) return stream.sendFrame(held.frame) ? SENT : 0
  return stream.sendKeyed(held.frame, held.token)
}

/** Counts what sending a live frame did. */
function count(context: ReplayContext, stream: Subscriber['stream'], result: KeyedResult): void {
  if ((result & SENT) !== 0) context.counters.delivered++
  if ((result & REPLACED) !== 0) countConflated(context.broker, context.counters, stream)
}

function failed(context: ReplayContext, subscriber: Subscriber, cause: unknown): void {
  context.report(asTransportError(cause))
  // Without history the client cannot be told what it missed: close so it retries later.
  subscriber.stopHolding()
  subscriber.stream.close()
}

/**
 * Instead of the reset event: the stream's snapshot, atomically with respect to live events. Live
 * events are still held; the cursor is taken and the snapshot asked for; events held before the
 * cursor was taken are in the snapshot's state and are left out, later ones follow it.
 *
 * A snapshot is a replay under the same caps: one that has not settled within `snapshotTimeout`, or
 * whose frames pass `maxReplayBytes`, is dropped for the reset event (`SNAPSHOT_FAILED`), so a hung
 * or huge snapshot holds neither the client nor unbounded memory.
 */
function snapshotTo(
  context: ReplayContext,
  subscriber: Subscriber,
  lastEventId: string,
  result: ReplayResult & { reset: true },
): void {
  const cursor = context.transport.cursor()
  const covered = subscriber.heldCount
  const { stream, topics } = subscriber
  let settled = false
  let timer: NodeJS.Timeout | undefined
  const settle = (): boolean => {
    if (settled) return false
    settled = true
    if (timer !== undefined) clearTimeout(timer)
    return true
  }
  const fallBack = (cause: unknown, message = 'the stream’s snapshot failed') => {
    if (!settle()) return
    context.report(
      new SSEError('SNAPSHOT_FAILED', `@sse/core: ${message}; sent the reset event`, { cause }),
    )
    answered(context, subscriber, lastEventId, result, false)
  }
  let value: unknown
  let pending = false
  try {
    value = subscriber.snapshot!({ request: stream.request, topics, cursor })
    pending = isThenable(value)
  } catch (cause) {
    fallBack(cause)
    return
  }
  const send = (events: unknown) => {
    if (settled) return
    if (stream.isClosed) {
      settle()
      subscriber.stopHolding()
      return
    }
    let frames: Buffer[]
    try {
      frames = snapshotFrames(events, cursor)
    } catch (cause) {
      fallBack(cause)
      return
    }
    let bytes = 0
    for (const frame of frames) bytes += frame.length
    if (bytes > context.limits.maxBytes) {
      fallBack(
        undefined,
        `the stream’s snapshot has ${bytes} bytes, more than maxReplayBytes (${context.limits.maxBytes})`,
      )
      return
    }
    settle()
    const held = subscriber.stopHolding()
    context.counters.snapshots++
    if (result.capped === true) context.counters.replaysCapped++
    stream.sendReplay(frames)
    for (const entry of held) {
      if (entry.seq >= covered && entry.frame.length > 0) {
        count(context, stream, sendHeld(stream, entry))
      }
    }
    if (diagnostics.replay.hasSubscribers) {
      diagnostics.replay.publish({
        broker: context.broker,
        stream,
        count: 0,
        reset: true,
        capped: result.capped === true,
        snapshot: true,
      })
    }
  }
  if (!pending) {
    send(value)
    return
  }
  timer = setTimeout(
    () =>
      fallBack(
        undefined,
        `the stream’s snapshot did not settle within ${context.snapshotTimeout} ms`,
      ),
    context.snapshotTimeout,
  )
  timer.unref()
  Promise.resolve(value).then(send, (cause: unknown) => fallBack(cause))
}

/** The snapshot's frames; the last carries the cursor as its id. Throws for a value that is not events. */
function snapshotFrames(value: unknown, cursor: string | undefined): Buffer[] {
  const events = (Array.isArray(value) ? value : [value]) as unknown[]
  if (events.length === 0)
    throw new SSEError('INVALID_EVENT', '@sse/core: a snapshot needs at least one event')
  return events.map((event, i) => {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new SSEError(
        'INVALID_EVENT',
        `@sse/core: a snapshot is an event or a list of events, got ${event === null ? 'null' : typeof event}`,
      )
    }
    const last = i === events.length - 1
    return encodeEvent(
      last && cursor !== undefined ? { ...(event as SSEEvent), id: cursor } : (event as SSEEvent),
    )
  })
}
