/** Hash slots of a Redis Cluster. */
export const SLOTS = 16384

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++)
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

/**
 * The Redis Cluster hash slot of `key` (CRC16/XMODEM of its UTF-8 bytes, modulo 16384), honouring
 * a hash tag: when the key holds `{…}` with something between the braces, only that part is hashed,
 * as Redis does (the cluster specification, "Hash tags").
 */
export function slotOf(key: string): number {
  let bytes = Buffer.from(key, 'utf8')
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc % SLOTS
}
