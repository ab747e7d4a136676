import type { BrokerStreamOptions, StreamLifetimeOptions } from '../options/brokerOptions.js'
import type { SSEStream } from '../stream/sseStream.js'
import type { SSEEvent, SSERequest, SSEResponse, SSEStreamOptions } from '../types.js'
import { encodeEvent } from '../wire/serializeEvent.js'
import { shutdownRefusalHeaders } from './shutdownRefusal.js'

/** What the broker needs of a {@link StreamGroup}. */
export interface GroupState {
  readonly members: Set<SSEStream>
  closed: boolean
}

/** Opens a stream that belongs to a group: the broker's side of `broker.group()`. */
export type OpenInGroup = (
  request: SSERequest,
  response: SSEResponse,
  options: BrokerStreamOptions | undefined,
  group: GroupState,
) => SSEStream

/** Ends `streams` (open ones after `finalFrame`) and refuses those still waiting for a verdict. */
export function shutdownAll(streams: Iterable<SSEStream>, finalFrame: Buffer | undefined): void {
  for (const stream of [...streams]) {
    if (stream.isOpen) stream.shutdown(finalFrame)
    else
      stream.refuse(
        503,
        'The event stream is shutting down.',
        shutdownRefusalHeaders(stream.request),
      )
  }
}

/**
 * Streams opened through one adapter (or any other owner) on a shared broker. Closing the group
 * ends its streams and lets go of their connections; the broker stays open.
 */
export class StreamGroup {
  readonly #open: OpenInGroup
  readonly #state: GroupState = { members: new Set(), closed: false }
  readonly #defaults: (SSEStreamOptions & StreamLifetimeOptions) | undefined

  /**
   * Made by `broker.group()`, which hands it `open` and `defaults`, already checked.
   * @internal
   */
  constructor(open: OpenInGroup, defaults?: SSEStreamOptions & StreamLifetimeOptions) {
    this.#open = open
    this.#defaults = defaults
  }

  /** Number of open (or pending) streams in the group. */
  get size(): number {
    return this.#state.members.size
  }

  /** `true` after {@link close}: new streams are refused with 503. */
  get isClosed(): boolean {
    return this.#state.closed
  }

  /** Like `broker.stream()`, and the stream joins the group until it closes. */
  stream(request: SSERequest, response: SSEResponse, options?: BrokerStreamOptions): SSEStream {
    return this.#open(request, response, this.#merged(options), this.#state)
  }

  /**
   * The group's defaults under `options`. A jitter goes with its `maxDuration`: a stream that sets
   * its own `maxDuration` gets its own jitter (or a tenth of it), never the group's.
   */
  #merged(options: BrokerStreamOptions | undefined): BrokerStreamOptions | undefined {
    const defaults = this.#defaults
    if (defaults === undefined) return options
    if (options?.maxDuration === undefined || options.maxDurationJitter !== undefined) {
      return { ...defaults, ...options }
    }
    const { maxDurationJitter: _groupJitter, ...rest } = defaults
    return { ...rest, ...options }
  }

  /**
   * Ends every stream of the group (after an optional final event); streams asked for afterwards
   * get 503 with `Retry-After`, as from a closed broker.
   */
  close(options?: { event?: SSEEvent }): void {
    this.#state.closed = true
    const finalFrame = options?.event === undefined ? undefined : encodeEvent(options.event)
    shutdownAll(this.#state.members, finalFrame)
  }
}
