import { nowMicros } from './clock.js'

const paddings = new Map<number, string>()

function padding(length: number): string {
  let pad = paddings.get(length)
  if (pad === undefined) {
    pad = 'x'.repeat(length)
    paddings.set(length, pad)
  }
  return pad
}

/**
 * The data of one benchmark event: `<seq> <send time in µs> xxxx…`, padded to `size` characters.
 * The load generator reads the sequence number (loss and order) and the timestamp (latency).
 */
export function makePayload(seq: number, size: number): string {
  const head = `${seq} ${Math.round(nowMicros())} `
  return size > head.length ? head + padding(size - head.length) : head
}
