import type { Delivery } from '@sse/core/kit'

/**
 * One event as stored in the Redis Stream by the publish script. Fields, in order:
 * - `t`: the topics, joined by LF (a topic cannot contain LF);
 * - `n`: the publish counter (1, 2, 3, …), which lets a reader notice entries trimmed before it read them;
 * - `i`: the publisher's own event id, only when it gave one (the stream id is used otherwise);
 * - `k`: the conflation key, only for a keyed event (`publish(..., { key })`);
 * - `f`: the complete frame, `id: <id>\n` included; one, shared by all topics, or one per topic.
 */
export interface StreamEntry {
  readonly delivery: Delivery
  /** The publish counter (`n`). */
  readonly count: number
}

/** A raw entry as ioredis returns it with Buffer replies: `[id, [field, value, field, value, …]]`. */
export type RawEntry = [id: Buffer, fields: Buffer[]]

const LF = 0x0a
const T = 0x74
const N = 0x6e
const I = 0x69
const F = 0x66
const K = 0x6b

/**
 * Reads an entry written by the publish script, or returns `undefined` for anything else (an entry
 * another program added, or a garbled one). Frames are checked before they can reach a socket: each
 * must start with its own `id:` line and hold exactly one event (one blank line, at its end), so a
 * foreign entry can never corrupt the framing of the stream around it.
 */
export function parseEntry(id: string, fields: readonly Buffer[]): StreamEntry | undefined {
  let topics: string[] | undefined
  let count: number | undefined
  let wireId: string | undefined
  let key: string | undefined
  const frames: Buffer[] = []
  if (fields.length % 2 !== 0) return undefined
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!
    const value = fields[i + 1]!
    if (name.length !== 1) return undefined
    switch (name[0]) {
      case T:
        if (topics !== undefined || value.length === 0) return undefined
        topics = value.toString('utf8').split('\n')
        break
      case N:
        if (count !== undefined) return undefined
        count = Number(value.toString('latin1'))
        break
      case I:
        if (wireId !== undefined || value.length === 0) return undefined
        wireId = value.toString('utf8')
        break
      case F:
        frames.push(value)
        break
      case K:
        if (key !== undefined || value.length === 0) return undefined
        key = value.toString('utf8')
        break
      default:
        return undefined
    }
  }
  if (
    topics === undefined ||
    topics.includes('') ||
    count === undefined ||
    !Number.isSafeInteger(count) ||
    count < 1 ||
    (frames.length !== 1 && frames.length !== topics.length)
  ) {
    return undefined
  }
  const eventId = wireId ?? id
  const prefix = Buffer.from(`id: ${eventId}\n`, 'utf8')
  for (const frame of frames) if (!isFrame(frame, prefix)) return undefined
  const delivery =
    key === undefined ? { id: eventId, topics, frames } : { id: eventId, topics, frames, key }
  return { delivery, count }
}

function isFrame(frame: Buffer, prefix: Buffer): boolean {
  const end = frame.length
  return (
    end >= prefix.length + 1 &&
    frame[end - 1] === LF &&
    frame[end - 2] === LF &&
    frame.indexOf('\n\n', prefix.length - 1) === end - 2 &&
    frame.indexOf(0x0d) === -1 &&
    prefix.equals(frame.subarray(0, prefix.length))
  )
}
