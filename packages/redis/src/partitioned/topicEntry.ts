/**
 * One event in a topic's stream, as the topic publish script stores it. Fields: `t` (all the
 * event's topics, joined by LF), `n` (the topic's publish counter), `i` (the publisher's own id,
 * when given), `k` (the conflation key, when given), `f` (the body: the serialized event without
 * its `id:` line).
 */
export interface TopicEntry {
  /** The stream id. */
  readonly id: string
  readonly topics: readonly string[]
  readonly count: number
  readonly wireId: string | undefined
  readonly key: string | undefined
  readonly body: Buffer
}

/** A raw entry as ioredis returns it with Buffer replies. */
export type RawTopicEntry = [id: Buffer, fields: Buffer[]]

const LF = 0x0a

/**
 * Reads an entry written by the topic publish script, or returns `undefined` for anything else.
 * The body is checked before it can reach a socket: exactly one event (one blank line, at its end),
 * no carriage return, and no `id:` line (the reader writes the id), so a foreign entry can never
 * corrupt the framing or the client's cursor.
 */
export function parseTopicEntry(id: string, fields: readonly Buffer[]): TopicEntry | undefined {
  let topics: string[] | undefined
  let count: number | undefined
  let wireId: string | undefined
  let key: string | undefined
  let body: Buffer | undefined
  if (fields.length % 2 !== 0) return undefined
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!
    const value = fields[i + 1]!
    if (name.length !== 1) return undefined
    const field = String.fromCharCode(name[0]!)
    if (field === 't' && topics === undefined && value.length > 0) {
      topics = value.toString('utf8').split('\n')
    } else if (field === 'n' && count === undefined) {
      count = Number(value.toString('latin1'))
    } else if (field === 'i' && wireId === undefined && value.length > 0) {
      wireId = value.toString('utf8')
    } else if (field === 'k' && key === undefined && value.length > 0) {
      key = value.toString('utf8')
    } else if (field === 'f' && body === undefined) {
      body = value
    } else {
      return undefined
    }
  }
  if (topics === undefined || topics.includes('') || body === undefined || !isBody(body)) {
    return undefined
  }
  if (count === undefined || !Number.isSafeInteger(count) || count < 1) return undefined
  return { id, topics, count, wireId, key, body }
}

function isBody(body: Buffer): boolean {
  const end = body.length
  return (
    end >= 2 &&
    body[end - 1] === LF &&
    body[end - 2] === LF &&
    (end === 2 || body.indexOf('\n\n') === end - 2) &&
    body.indexOf(0x0d) === -1 &&
    !(body[0] === 0x69 && body[1] === 0x64 && (body[2] === 0x3a || body[2] === LF)) &&
    body.indexOf('\nid:') === -1 &&
    body.indexOf('\nid\n') === -1
  )
}
