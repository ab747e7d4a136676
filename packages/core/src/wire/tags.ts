import { SSEError } from '../sseError.js'
import { isBoundedText } from './boundedText.js'

/** Most tags one stream may carry (`tags` stream option). */
export const MAX_TAGS_PER_STREAM = 16

/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 256

/** Whether `value` is a tag: a non-empty string of at most {@link MAX_TAG_LENGTH} characters without control characters. */
export function isTag(value: unknown): value is string {
  return isBoundedText(value, MAX_TAG_LENGTH)
}

/** Whether `value` is a list of tags (any length, possibly empty). */
export function isTagList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every(isTag)
}

/** Whether `value` is what the `tags` stream option takes: at most {@link MAX_TAGS_PER_STREAM} tags. */
export function isStreamTags(value: unknown): value is readonly string[] {
  return isTagList(value) && value.length <= MAX_TAGS_PER_STREAM
}

/** What a tag must be, for error messages. */
export const TAG_RULE = `a non-empty string of at most ${MAX_TAG_LENGTH} characters without control characters`

function shown(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 80
      ? `${JSON.stringify(value.slice(0, 80))}… (${value.length} characters)`
      : JSON.stringify(value)
  }
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : String(value)
}

function invalid(message: string): SSEError {
  return new SSEError('INVALID_OPTION', `@sse/core: disconnect() ${message}`)
}

/**
 * Reads the selector of `broker.disconnect()`: `{ tag }` or `{ tags }` (any of them, at least one),
 * into a de-duplicated list of tags. Throws an {@link SSEError} `INVALID_OPTION` naming the bad key.
 */
export function readSelector(selector: unknown): readonly string[] {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) {
    throw invalid(`takes a selector { tag } or { tags }, got ${shown(selector)}`)
  }
  const { tag, tags, ...rest } = selector as { tag?: unknown; tags?: unknown }
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) {
    throw invalid(`selector has an unknown key "${unknown}" (known keys: tag, tags)`)
  }
  if (tag !== undefined && tags !== undefined) {
    throw invalid('selector takes "tag" or "tags", not both')
  }
  if (tag !== undefined) {
    if (!isTag(tag)) throw invalid(`selector "tag" must be ${TAG_RULE}, got ${shown(tag)}`)
    return [tag]
  }
  if (tags === undefined) throw invalid('selector needs "tag" or "tags"')
  if (!Array.isArray(tags) || tags.length === 0) {
    throw invalid(`selector "tags" must be a non-empty array of tags, got ${shown(tags)}`)
  }
  const bad = tags.findIndex((one) => !isTag(one))
  if (bad !== -1) {
    throw invalid(`selector "tags.${bad}" must be ${TAG_RULE}, got ${shown(tags[bad])}`)
  }
  return tags.length > 1 ? [...new Set<string>(tags)] : (tags as string[])
}
