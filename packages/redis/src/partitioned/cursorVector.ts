/**
 * A client's position across partitions, as one event id (`Last-Event-ID`): for each partition the
 * instance reads, the stream id of the last entry it had delivered there, and a floor (a time in
 * ms) that stands for the partitions it does not name. Written in base 36 with the partitions'
 * times as differences from the floor, so that 16 partitions fit in 256 characters:
 * `~<floor>` then `.<partition><floor - ms>-<seq>` per partition, partitions in increasing order.
 * For example `~mf3k2a1c.00-4.21f-0`. The `~` tells it from any other id (`gone` is not a cursor).
 */
export interface CursorVector {
  /** Ms (Redis time) at or after which nothing unnamed here had been read. */
  readonly floor: number
  /** Partition → stream id (`<ms>-<seq>`). */
  readonly positions: ReadonlyMap<number, string>
}

const PART = /^([0-9a-f])([0-9a-z]{1,11})-([0-9a-z]{1,11})$/
/**
 * Farthest a position is written behind the floor: 36^7 - 1 ms, about 2.5 years. A position
 * further behind is written as this far behind: nothing of the topics read there was published in
 * between, or the reader would have moved past it (see {@link encodeCursor}).
 */
const MAX_BACK = 36 ** 7 - 1
const FLOOR = /^~[0-9a-z]{1,11}$/

/**
 * The position {@link encodeCursor} writes for one further behind the floor than it can say. It
 * stands for an earlier one with no entry of the partition's read topics in between, so a client
 * there has everything up to it: even when a reader has read less far (a partition where nothing
 * was published yet, read from `0-0`).
 */
export function farthestBack(floor: number): string {
  return `${floor - MAX_BACK}-0`
}

/** Splits a canonical stream id into numbers. */
export function splitId(id: string): [ms: number, seq: number] {
  const dash = id.indexOf('-')
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))]
}

/**
 * The vector's id. Positions are stream ids this transport made (safe integers), each where a
 * reader has read every entry of its topics so far: one that lags the floor by more than
 * {@link MAX_BACK} is moved up to it, since no entry of those topics lies in between.
 */
export function encodeCursor(positions: ReadonlyMap<number, string>, floorMs: number): string {
  let floor = Math.max(0, Math.floor(floorMs))
  const parts: [number, number, number][] = []
  for (const [partition, id] of positions) {
    const [ms, seq] = splitId(id)
    if (ms > floor) floor = ms
    parts.push([partition, ms, seq])
  }
  parts.sort((a, b) => a[0] - b[0])
  let cursor = `~${floor.toString(36)}`
  for (const [partition, ms, seq] of parts) {
    const back = floor - ms
    const written =
      back > MAX_BACK ? `${MAX_BACK.toString(36)}-0` : `${back.toString(36)}-${seq.toString(36)}`
    cursor += `.${partition.toString(36)}${written}`
  }
  return cursor
}

/**
 * Reads a cursor made by {@link encodeCursor} for a layout of `partitions` partitions, or returns
 * `undefined` for anything else (a garbled or foreign id, or one of another layout).
 */
export function decodeCursor(cursor: string, partitions: number): CursorVector | undefined {
  if (cursor.length === 0 || cursor.length > 256) return undefined
  const parts = cursor.split('.')
  const head = parts[0]!
  if (!FLOOR.test(head)) return undefined
  const floor = Number.parseInt(head.slice(1), 36)
  if (!Number.isSafeInteger(floor)) return undefined
  const positions = new Map<number, string>()
  let previous = -1
  for (let i = 1; i < parts.length; i++) {
    const match = PART.exec(parts[i]!)
    if (match === null) return undefined
    const partition = Number.parseInt(match[1]!, 36)
    const back = Number.parseInt(match[2]!, 36)
    const seq = Number.parseInt(match[3]!, 36)
    if (partition <= previous || partition >= partitions || back > floor) return undefined
    if (!Number.isSafeInteger(seq)) return undefined
    previous = partition
    positions.set(partition, `${floor - back}-${seq}`)
  }
  return { floor, positions }
}
