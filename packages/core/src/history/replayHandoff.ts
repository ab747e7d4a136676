import type { Delivery, ReplayLimits, ReplayResult } from '../types.js'

/** A live event held for a subscriber while its replay is being read. */
export interface HeldFrame {
  readonly id: string
  /** Empty when a newer event of the same topic and key replaced it (conflation). */
  readonly frame: Buffer
  /** The topic and key of a keyed event (see `conflationToken`). */
  readonly token?: string | undefined
}

/** How a subscriber goes from its replay to live events, from {@link handOff}. */
export interface HandOff {
  /** Replay frames in id order, a new array the stream may take over; empty for a reset. */
  readonly replay: Buffer[]
  /** Set when the client cannot be replayed to: the cursor its reset event carries. */
  readonly reset: { readonly headId: string; readonly capped: boolean } | undefined
  /** Held live frames to write after the replay: none that the replay carries, none the client has. */
  readonly live: readonly Buffer[]
}

const NO_FRAMES: readonly Buffer[] = []
const NO_REPLAY: Buffer[] = []

/**
 * Joins a replay answer and the live events held while it was read, so that nothing falls into the
 * gap between them and nothing arrives twice:
 * - held events the replay also carries are left out;
 * - held events up to the client's own last id are left out (an instance whose transport delivers
 *   later than the one the client left can still hold events the client has);
 * - a replay over `limits` becomes a reset whose cursor is its last event, so that the held events
 *   after it still follow (a transport should cap it itself; this is the broker's safety net).
 */
export function handOff(
  result: ReplayResult,
  held: readonly HeldFrame[],
  lastEventId: string,
  frameOf: (delivery: Delivery) => Buffer,
  limits: ReplayLimits,
): HandOff {
  let replay = NO_REPLAY
  let reset: HandOff['reset']
  let seen: Set<string> | undefined
  if (result.reset) {
    reset = { headId: result.headId, capped: result.capped === true }
  } else if (result.deliveries.length > 0) {
    const deliveries = result.deliveries
    const frames = deliveries.map(frameOf)
    let bytes = 0
    for (const frame of frames) bytes += frame.length
    if (frames.length > limits.maxEvents || bytes > limits.maxBytes) {
      reset = { headId: deliveries[deliveries.length - 1]!.id, capped: true }
    } else {
      replay = frames
    }
    if (held.length > 0) seen = new Set(deliveries.map((delivery) => delivery.id))
  }
  if (held.length === 0) return { replay, reset, live: NO_FRAMES }
  const known = held.findIndex((entry) => entry.id === lastEventId)
  const live: Buffer[] = []
  for (let i = known + 1; i < held.length; i++) {
    const { id, frame } = held[i]!
    if (frame.length > 0 && seen?.has(id) !== true) live.push(frame)
  }
  return { replay, reset, live }
}
