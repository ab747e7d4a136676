import { diagnostics } from '../diagnostics.js'
import { SSEError } from '../sseError.js'
import type { BrokerCounters } from '../subscribers/brokerCounters.js'

function ignore(): void {}

/** A transport failure as an {@link SSEError}. */
export function asTransportError(cause: unknown): SSEError {
  return cause instanceof SSEError
    ? cause
    : new SSEError('TRANSPORT_ERROR', '@sse/core: the transport failed', { cause })
}

/**
 * Where a broker's failures go that no caller waits on: `sse:error` and the `onError` hook (whose
 * own throw is swallowed). Transport failures are reported once per outage: the first failure after
 * the transport last worked.
 */
export class ErrorReports {
  readonly #broker: object
  readonly #onError: (error: SSEError) => void
  readonly #counters: BrokerCounters
  #transportDown = false

  /** `broker` is what diagnostics messages name. */
  constructor(broker: object, onError: (error: SSEError) => void, counters: BrokerCounters) {
    this.#broker = broker
    this.#onError = onError
    this.#counters = counters
  }

  /** Reports `error`. Never throws. */
  report(error: SSEError): void {
    if (diagnostics.error.hasSubscribers) diagnostics.error.publish({ broker: this.#broker, error })
    try {
      this.#onError(error)
    } catch {
      // An onError hook that throws must not take the broker down with it.
    }
  }

  /** The transport carried something: the next failure starts a new outage. */
  transportWorked(): void {
    this.#transportDown = false
  }

  /**
   * A delivery failure (of a publish, or of a disconnect's message to other instances): counted,
   * reported once per outage, and returned as an already handled rejection.
   */
  transportFailed(
    cause: unknown,
    counter: 'publishFailures' | 'disconnectFailures',
  ): Promise<never> {
    const error = asTransportError(cause)
    this.#counters[counter]++
    if (!this.#transportDown) {
      this.#transportDown = true
      this.report(error)
    }
    const failed = Promise.reject(error)
    failed.catch(ignore)
    return failed
  }
}
