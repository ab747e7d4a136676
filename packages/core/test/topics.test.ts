import { describe, expect, test } from 'vitest'
import { SSEError } from '../src/sseError.js'
import { MAX_TOPIC_LENGTH, readTopics } from '../src/wire/topics.js'

const codeOf = (value: unknown) => (value instanceof SSEError ? value.code : 'ok')

describe('reading topics', () => {
  test('one topic or a list, de-duplicated; none is an empty list', () => {
    expect(readTopics('a', 64)).toEqual(['a'])
    expect(readTopics(['a', 'b', 'a'], 64)).toEqual(['a', 'b'])
    expect(readTopics(undefined, 64)).toEqual([])
  })

  test.each([
    ['', 'empty'],
    ['a\nb', 'LF'],
    ['a\rb', 'CR'],
    ['a\0b', 'NUL'],
    ['x'.repeat(MAX_TOPIC_LENGTH + 1), 'too long'],
    [5, 'a number'],
    [null, 'null'],
    [{ length: 1 }, 'an array-like object'],
    [['ok', 7], 'a list with a number'],
  ] as Array<[unknown, string]>)('%j (%s) is INVALID_TOPIC', (topics) => {
    expect(codeOf(readTopics(topics, 64))).toBe('INVALID_TOPIC')
  })

  test('more distinct topics than the cap is TOO_MANY_TOPICS; duplicates do not count', () => {
    expect(codeOf(readTopics(['a', 'b', 'c', 'd'], 3))).toBe('TOO_MANY_TOPICS')
    expect(readTopics(['a', 'b', 'c', 'a', 'b'], 3)).toEqual(['a', 'b', 'c'])
  })

  test('a 3,000-topic request is refused without subscribing anything', () => {
    const topics = Array.from({ length: 3000 }, (_, i) => `t${i}`)
    expect(codeOf(readTopics(topics, 64))).toBe('TOO_MANY_TOPICS')
  })
})
