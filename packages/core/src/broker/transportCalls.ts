import { SSEError } from '../sseError.js'
import type { OutgoingMessage, Transport, TransportSink } from '../types.js'
import type { ErrorReports } from './errorReports.js'

function ignore(): void {}

/**
 * Starts `transport` towards `sink`: the broker's `ready`. A transport that fails to start, by
 * throwing or rejecting, is reported (`TRANSPORT_ERROR` unless it says better); `ready` rejects.
 */
export function startTransport(
  transport: Transport,
  sink: TransportSink,
  errors: ErrorReports,
): Promise<void> {
  let started: void | Promise<void>
  try {
    started = transport.start(sink)
  } catch (cause) {
    started = Promise.reject(cause)
  }
  const ready = Promise.resolve(started)
  ready.catch((cause: unknown) =>
    errors.report(
      cause instanceof SSEError
        ? cause
        : new SSEError('TRANSPORT_ERROR', '@sse/core: the transport failed to start', { cause }),
    ),
  )
  return ready
}

/**
 * Hands `message` to `transport` and returns the promise of `broker.publish()`: the event's id, or
 * a rejection that is already handled (a fire-and-forget publish is safe), counted and reported by
 * `errors`. Never throws: a transport that throws is a failed publish like one that rejects.
 */
export function publishThrough(
  transport: Transport,
  message: OutgoingMessage,
  errors: ErrorReports,
  accepted: (id: string, topics: readonly string[]) => void,
): Promise<string> {
  let result: string | Promise<string>
  try {
    result = transport.publish(message)
  } catch (cause) {
    return errors.transportFailed(cause, 'publishFailures')
  }
  if (typeof result === 'string') {
    accepted(result, message.topics)
    return Promise.resolve(result)
  }
  const settled = Promise.resolve(result).then(
    (id) => {
      accepted(id, message.topics)
      return id
    },
    (cause: unknown) => errors.transportFailed(cause, 'publishFailures'),
  )
  settled.catch(ignore)
  return settled
}
