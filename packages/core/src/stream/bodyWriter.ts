import {
  type BodySocket,
  carriesBody,
  chunkedBodySocket,
  writeChunk,
} from '../internals/chunkedSocketBody.js'
import type { RawResponse } from './responseHead.js'

/** Where an open stream's body goes: its socket, written directly as chunks, or `null` for `res.write()`. */
export type BodyTarget = BodySocket | null

/** What {@link writeBody} did. */
export type WriteOutcome =
  | typeof WRITTEN
  | typeof SOCKET_BEHIND
  | typeof RESPONSE_BEHIND
  | typeof ENDED
/** Node holds nothing unsent: the kernel took it all, or Node's buffer has room. */
export const WRITTEN = 0
/** The socket pushed back: wait for its `'drain'`. */
export const SOCKET_BEHIND = 1
/** The response pushed back: wait for its `'drain'`. */
export const RESPONSE_BEHIND = 2
/** The app ended the response itself: nothing may follow its end. */
export const ENDED = 3

/** The body target of an open response: direct where allowed and `direct` (`writePath: 'socket'`). */
export function bodyTarget(res: RawResponse, direct: boolean): BodyTarget {
  return direct ? chunkedBodySocket(res) : null
}

/**
 * Writes `chunk` to the body. `write()` answers false for any chunk past Node's high-water mark, even
 * one the kernel took whole at once: only bytes Node still holds afterwards mean the client is behind.
 */
export function writeBody(res: RawResponse, target: BodyTarget, chunk: Buffer): WriteOutcome {
  if (target !== null && carriesBody(target, res)) {
    return writeChunk(target, chunk) || target.writableLength === 0 ? WRITTEN : SOCKET_BEHIND
  }
  if (res.writableEnded) return ENDED
  return res.write(chunk) || res.writableLength === 0 ? WRITTEN : RESPONSE_BEHIND
}
