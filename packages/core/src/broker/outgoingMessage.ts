import { kindOf, SSEError } from '../sseError.js'
import type { OutgoingMessage, SSEEvent } from '../types.js'
import { isResumableId } from '../wire/lastEventId.js'
import { assertEventId, serializeFields } from '../wire/serializeEvent.js'
import { readTopics } from '../wire/topics.js'

/** The event a publish stands for: an event object, or a string (or `html` result) as its data. */
function eventOf(event: unknown): SSEEvent {
  if (typeof event === 'string' || event instanceof String) return { data: event }
  if (typeof event === 'object' && event !== null && !Array.isArray(event)) return event
  throw new SSEError(
    'INVALID_EVENT',
    `@sse/core: publish takes an event object or a string, got ${kindOf(event)}`,
  )
}

/** Refuses at publish an id that a client could not resume from. */
function assertPublishedId(id: unknown): asserts id is string {
  assertEventId(id)
  if (!isResumableId(id)) {
    throw new SSEError(
      'INVALID_EVENT_ID',
      `@sse/core: an event id must be at most 256 characters without control characters, so that a client can resume from it; got ${JSON.stringify(id.slice(0, 80))}`,
    )
  }
}

/**
 * Reads a publish's arguments and serializes the event once, without its id line: one body, or one
 * per topic when the event is named after its topic. Throws an {@link SSEError} for anything a
 * client could not receive: `INVALID_TOPIC`, `INVALID_EVENT`, `INVALID_EVENT_NAME`,
 * `INVALID_EVENT_ID`, `INVALID_RETRY`.
 */
export function toOutgoingMessage(
  topics: unknown,
  event: unknown,
  nameAfterTopic: boolean,
  key?: string,
): OutgoingMessage {
  const list = readTopics(topics, Number.POSITIVE_INFINITY)
  if (list instanceof SSEError) throw list
  if (list.length === 0) {
    throw new SSEError('INVALID_TOPIC', '@sse/core: publish needs at least one topic')
  }
  const message = eventOf(event)
  if (message.id !== undefined) assertPublishedId(message.id)
  const bodies =
    nameAfterTopic && message.event === undefined
      ? list.map((topic) => serializeFields(message, undefined, topic))
      : [serializeFields(message, undefined, message.event)]
  const outgoing: { topics: readonly string[]; bodies: string[]; id?: string; key?: string } = {
    topics: list,
    bodies,
  }
  if (message.id !== undefined) outgoing.id = message.id
  if (key !== undefined) outgoing.key = key
  return outgoing
}
