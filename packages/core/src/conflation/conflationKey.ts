import { isBoundedText } from '../wire/boundedText.js'

/** Longest conflation key (`broker.publish(topic, event, { key })`), in characters. */
export const MAX_CONFLATION_KEY_LENGTH = 256

/** Whether `key` can be a conflation key: a non-empty string, bounded, without control characters. */
export function isConflationKey(key: unknown): key is string {
  return isBoundedText(key, MAX_CONFLATION_KEY_LENGTH)
}

/**
 * What identifies "the same thing" for conflation and log compaction: a topic and a key. Topics and
 * keys hold no NUL, so the joined string is unambiguous. Built once per publish (per topic), never
 * per subscriber: every stream compares the same string.
 */
export function conflationToken(topic: string, key: string): string {
  return `${topic}\u0000${key}`
}
