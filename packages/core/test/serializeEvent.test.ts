import { encodeEvent, SSEError, type SSEEvent, serializeEvent } from '@sse/core'
import { errorOf } from '@sse/testkit'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

function parse(text: string) {
  const events: EventSourceMessage[] = []
  const comments: string[] = []
  const retries: number[] = []
  const parser = createParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
    onRetry: (r) => retries.push(r),
  })
  parser.feed(text)
  return { events, comments, retries }
}

/** The code of the SSEError `fn` throws (anything else fails the test), or `undefined`. */
const codeOf = (fn: () => unknown) => errorOf(fn, SSEError)?.code

describe('serializeEvent writes exact bytes', () => {
  test('a string payload goes out raw, not JSON-quoted', () => {
    expect(serializeEvent({ data: '<li class="a">hi</li>' })).toBe(
      'data: <li class="a">hi</li>\n\n',
    )
  })

  test('CR, LF and CRLF each split the payload into one data line per line', () => {
    expect(serializeEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n')
  })

  test('empty lines inside and at the end of the payload are kept', () => {
    expect(serializeEvent({ data: 'a\n\nb\n' })).toBe('data: a\ndata: \ndata: b\ndata: \n\n')
  })

  test('non-string data is JSON-encoded', () => {
    expect(serializeEvent({ data: { a: 1, b: 'x\ny' } })).toBe('data: {"a":1,"b":"x\\ny"}\n\n')
    expect(serializeEvent({ data: 42 })).toBe('data: 42\n\n')
    expect(serializeEvent({ data: null })).toBe('data: null\n\n')
  })

  test('fields come as id, event, retry, comment, data with exactly one space after each colon', () => {
    expect(
      serializeEvent({ id: '7', event: 'note', retry: 1500, comment: 'c', data: '  two spaces' }),
    ).toBe('id: 7\nevent: note\nretry: 1500\n: c\ndata:   two spaces\n\n')
  })

  test('retry: 0 and an empty id are kept, not dropped', () => {
    expect(serializeEvent({ retry: 0 })).toBe('retry: 0\n\n')
    expect(serializeEvent({ id: '', data: 'x' })).toBe('id: \ndata: x\n\n')
  })

  test('multi-line comments become one comment line each', () => {
    expect(serializeEvent({ comment: 'one\ntwo\r\nthree' })).toBe(': one\n: two\n: three\n\n')
  })

  test('encodeEvent returns the same text as bytes', () => {
    const event = { event: 'é', data: '✓ ünïcode' }
    expect(encodeEvent(event)).toEqual(Buffer.from(serializeEvent(event), 'utf8'))
  })
})

describe('serializeEvent refuses field injection with a typed error', () => {
  test.each(['a\nb', 'a\rb', 'a\r\nevent: evil'])(
    'an event name with a line break (%j)',
    (name) => {
      expect(codeOf(() => serializeEvent({ event: name, data: 'x' }))).toBe('INVALID_EVENT_NAME')
    },
  )

  test.each(['1\n2', '1\r2', '1\0'])('an id with CR, LF or NUL (%j)', (id) => {
    expect(codeOf(() => serializeEvent({ id, data: 'x' }))).toBe('INVALID_EVENT_ID')
  })

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10'])('a retry of %j', (retry) => {
    expect(codeOf(() => serializeEvent({ retry: retry as number }))).toBe('INVALID_RETRY')
  })

  test('data without a JSON form (a function, a BigInt, a cycle)', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    for (const data of [() => 1, 10n, cycle]) {
      expect(codeOf(() => serializeEvent({ data }))).toBe('INVALID_EVENT')
    }
  })

  test('the error message names the package and the bad value', () => {
    expect(() => serializeEvent({ event: 'x\ny' })).toThrow(
      '@sse/core: event name must not contain CR or LF, got "x\\ny"',
    )
  })
})

const noLineBreak = fc.string({ unit: 'grapheme' }).filter((s) => !/[\r\n]/.test(s))
const arbitraryEvent: fc.Arbitrary<SSEEvent> = fc.record(
  {
    data: fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('a', ' ', '\r', '\n', ':', 'é') }),
      fc.jsonValue(),
    ),
    event: noLineBreak.filter((s) => s.length > 0),
    id: noLineBreak.filter((s) => !s.includes('\0')),
    retry: fc.nat(),
    comment: fc.string({ unit: fc.constantFrom('x', ' ', '\r', '\n', ':') }),
  },
  { requiredKeys: ['data'] },
)

describe('round trip through a spec-compliant parser', () => {
  test('parsing serializeEvent(e) yields exactly e, with CR and CRLF normalised to LF', () => {
    fc.assert(
      fc.property(arbitraryEvent, (event) => {
        const { events, comments, retries } = parse(serializeEvent(event))
        const data =
          typeof event.data === 'string'
            ? event.data.replace(/\r\n|\r/g, '\n')
            : JSON.stringify(event.data)
        expect(events).toEqual([{ id: event.id, event: event.event, data }])
        expect(retries).toEqual(event.retry === undefined ? [] : [event.retry])
        const commentLines = event.comment === undefined ? [] : event.comment.split(/\r\n|\r|\n/)
        expect(comments).toEqual(commentLines)
      }),
      { numRuns: 2000 },
    )
  })

  test('a stream of many serialized events parses back event by event', () => {
    fc.assert(
      fc.property(fc.array(arbitraryEvent, { maxLength: 20 }), (list) => {
        const { events } = parse(list.map(serializeEvent).join(''))
        expect(events).toHaveLength(list.length)
      }),
      { numRuns: 300 },
    )
  })
})
