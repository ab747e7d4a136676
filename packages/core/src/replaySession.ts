import type { BrokerCounters } from './brokerCounters.js'
import { diagnostics } from './diagnostics.js'
import { isThenable } from './isThenable.js'
import { handOff } from './replayHandoff.js'
import { encodeEvent } from './serializeEvent.js'
import { SSEError } from './sseError.js'
import type { Subscriber } from './subscriber.js'
import type { ReplayLimits, ReplayResult, Transport } from './types.js'

/** What a replay needs of the broker. */
export interface ReplayContext {
  /** The broker, as diagnostics messages name it. */
  readonly broker: object
  readonly transport: Transport
  readonly limits: ReplayLimits
  readonly resetEvent: string
  readonly counters: BrokerCounters
  report(error: SSEError): void
}

/** A transport failure as an {@link SSEError}. */
export function asTransportError(cause: unknown): SSEError {
  return cause instanceof SSEError
    ? cause
    : new SSEError('TRANSPORT_ERROR', '@sse/core: the transport failed', { cause })
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
  subscriber.startHolding()
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
): void {
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
    for (const frame of plan.live) if (stream.sendFrame(frame)) counters.delivered++
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

function failed(context: ReplayContext, subscriber: Subscriber, cause: unknown): void {
  context.report(asTransportError(cause))
  // Without history the client cannot be told what it missed: close so it retries later.
  subscriber.stopHolding()
  subscriber.stream.close()
}
