const STREAM_ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/
const MAX_PART = '18446744073709551615'

/** The id before every entry: reading after it reads a stream from its start. */
export const STREAM_START = '0-0'

function fits(part: string): boolean {
  return part.length < MAX_PART.length || (part.length === MAX_PART.length && part <= MAX_PART)
}

/** Whether `id` is a Redis Stream id in canonical form (`<ms>-<seq>`, both unsigned 64-bit). */
export function isStreamId(id: string): boolean {
  const match = STREAM_ID.exec(id)
  return match !== null && fits(match[1]!) && fits(match[2]!)
}

function compareParts(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Orders two canonical stream ids (negative, zero or positive, like a sort comparator). Decimal
 * strings without leading zeros compare by length, then character by character: no BigInt needed.
 */
export function compareStreamIds(a: string, b: string): number {
  const dashA = a.indexOf('-')
  const dashB = b.indexOf('-')
  return (
    compareParts(a.slice(0, dashA), b.slice(0, dashB)) ||
    compareParts(a.slice(dashA + 1), b.slice(dashB + 1))
  )
}
