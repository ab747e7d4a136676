import { SSEError } from '../sseError.js'

/** Longest topic name, in characters. */
export const MAX_TOPIC_LENGTH = 256

const NO_TOPICS: readonly string[] = []

function isTopic(topic: unknown): topic is string {
  return (
    typeof topic === 'string' &&
    topic.length > 0 &&
    topic.length <= MAX_TOPIC_LENGTH &&
    topic.indexOf('\n') === -1 &&
    topic.indexOf('\r') === -1 &&
    topic.indexOf('\0') === -1
  )
}

function invalidTopic(topic: unknown): SSEError {
  const shown = typeof topic === 'string' ? JSON.stringify(topic.slice(0, 80)) : typeof topic
  return new SSEError(
    'INVALID_TOPIC',
    `@sse/core: a topic must be a non-empty string of at most ${MAX_TOPIC_LENGTH} characters without CR, LF or NUL, got ${shown}`,
  )
}

/**
 * Reads a topics argument (one topic or a list) into a de-duplicated list, or the error that
 * refuses it: `INVALID_TOPIC`, or `TOO_MANY_TOPICS` past `max` distinct topics.
 */
export function readTopics(topics: unknown, max: number): readonly string[] | SSEError {
  if (topics === undefined) return NO_TOPICS
  if (typeof topics === 'string') return isTopic(topics) ? [topics] : invalidTopic(topics)
  if (!Array.isArray(topics)) return invalidTopic(topics)
  for (const topic of topics) if (!isTopic(topic)) return invalidTopic(topic)
  const list: readonly string[] = topics.length > 1 ? [...new Set<string>(topics)] : topics
  if (list.length > max) {
    return new SSEError(
      'TOO_MANY_TOPICS',
      `@sse/core: a stream may subscribe to at most ${max} topics (maxTopicsPerStream), got ${list.length}`,
    )
  }
  return list
}
