import { EventStreamParser, type ServerSentEvent } from '@sse/testing'
import { createParser } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

interface Parsed {
  events: ServerSentEvent[]
  comments: string[]
  retries: number[]
  lastEventIds: string[]
}

/** Our parser over `pieces`, fed in that order; each event with the parser's lastEventId then. */
function ours(pieces: Array<string | Uint8Array>, lastEventId?: string): Parsed {
  const parsed: Parsed = { events: [], comments: [], retries: [], lastEventIds: [] }
  const parser: EventStreamParser = new EventStreamParser(
    {
      onEvent: (event) => {
        parsed.events.push(event)
        parsed.lastEventIds.push(parser.lastEventId)
      },
      onComment: (comment) => parsed.comments.push(comment),
      onRetry: (ms) => parsed.retries.push(ms),
    },
    lastEventId,
  )
  for (const piece of pieces) parser.feed(piece)
  return parsed
}

/**
 * eventsource-parser over the whole body, decoded as the spec decodes it (TextDecoder drops the
 * BOM and replaces bad bytes). A last CR waits there for a possible LF; ours ends the line at once,
 * which is what the same body followed by an LF gives.
 */
function reference(bytes: Uint8Array): Omit<Parsed, 'lastEventIds'> {
  const parsed = {
    events: [] as ServerSentEvent[],
    comments: [] as string[],
    retries: [] as number[],
  }
  const parser = createParser({
    onEvent: ({ event, data, id }) => parsed.events.push({ event, data, id }),
    onComment: (comment) => parsed.comments.push(comment),
    onRetry: (ms) => parsed.retries.push(ms),
  })
  const text = new TextDecoder().decode(bytes)
  parser.feed(text.endsWith('\r') ? `${text}\n` : text)
  return parsed
}

const withoutLastEventId = ({ lastEventIds: _, ...rest }: Parsed) => rest

const token = fc.oneof(
  fc.constantFrom(
    'data',
    'data:',
    'data: ',
    'event:',
    'event: ',
    'id:',
    'id: ',
    'retry:',
    'retry: ',
    ':',
    ': ',
    ' ',
    '\n',
    '\r',
    '\r\n',
    '\n\n',
    '\0',
    '\uFEFF',
    'x',
    'é',
    '😀',
    '42',
    'a:b',
    'ret',
    'ry',
    'id: 1\0\n',
    'id: 2\n',
    'event: e\n',
    'data: d\n\n',
  ),
  fc.string({ maxLength: 6 }),
)
/** Bodies made of SSE's own pieces, sometimes with a BOM or bytes that are not UTF-8. */
const body = fc
  .tuple(
    fc.boolean(),
    fc.array(token, { maxLength: 40 }),
    fc.option(fc.uint8Array({ maxLength: 6 }), { nil: undefined }),
  )
  .map(([bom, tokens, junk]) => {
    const text = Buffer.from(`${bom ? '\uFEFF' : ''}${tokens.join('')}`)
    if (junk === undefined) return new Uint8Array(text)
    const at = Math.floor(text.length / 2)
    return new Uint8Array(Buffer.concat([text.subarray(0, at), junk, text.subarray(at)]))
  })

describe('EventStreamParser against eventsource-parser', () => {
  test('the same events, comments and retries for any body, split at every byte boundary', () => {
    fc.assert(
      fc.property(body, (bytes) => {
        const expected = reference(bytes)
        for (let at = 0; at <= bytes.length; at++) {
          const split = ours([bytes.subarray(0, at), bytes.subarray(at)])
          expect(withoutLastEventId(split)).toEqual(expected)
        }
      }),
      { numRuns: 300 },
    )
  })

  test('the same for any body cut into many pieces, fed as bytes or as text', () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
        const at = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
        const pieces = [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length))
        const expected = reference(bytes)
        expect(withoutLastEventId(ours(pieces))).toEqual(expected)
        // Text pieces: the decoded body, cut by code unit (a BOM is dropped by the parser).
        const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)
        const textAt = at.map((cut) => Math.min(cut, text.length))
        const textPieces = [0, ...textAt].map((from, i) =>
          text.slice(from, textAt[i] ?? text.length),
        )
        expect(withoutLastEventId(ours(textPieces))).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })
})

describe('EventStreamParser, by the spec', () => {
  test('CR, LF and CRLF all end lines, also when CR and LF arrive in different pieces', () => {
    const { events } = ours(['data: a\r', '\ndata: b\r', '\r', '\ndata: c\n\n'])
    expect(events.map((event) => event.data)).toEqual(['a\nb', 'c'])
  })

  test('an event is dispatched at the blank line, not before, and never without one', () => {
    const dispatched: string[] = []
    const parser = new EventStreamParser({ onEvent: (event) => dispatched.push(event.data) })
    parser.feed('data: one\n')
    expect(dispatched).toEqual([])
    parser.feed('\ndata: never ended\n')
    expect(dispatched).toEqual(['one'])
  })

  test('one leading BOM is dropped; a second one is part of the field name', () => {
    expect(ours(['\uFEFFdata: a\n\n']).events).toHaveLength(1)
    expect(ours(['\uFEFF\uFEFFdata: a\n\n']).events).toHaveLength(0)
    const bytes = Buffer.from('\uFEFFdata: a\n\n')
    expect(ours([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)]).events).toEqual([
      { event: undefined, data: 'a', id: undefined },
    ])
  })

  test('an id with NUL is ignored; a valid id carries over to later events as lastEventId', () => {
    const parsed = ours(['id: 1\ndata: a\n\nid: 2\0\ndata: b\n\ndata: c\n\nid\ndata: d\n\n'])
    expect(parsed.events.map(({ id }) => id)).toEqual(['1', undefined, undefined, ''])
    expect(parsed.lastEventIds).toEqual(['1', '1', '1', ''])
  })

  test('a block with an id and no data dispatches nothing but sets lastEventId', () => {
    const parsed = ours(['id: 7\n\ndata: after\n\n'], 'start')
    expect(parsed.events).toEqual([{ event: undefined, data: 'after', id: undefined }])
    expect(parsed.lastEventIds).toEqual(['7'])
    expect(ours(['data: x\n\n'], 'start').lastEventIds).toEqual(['start'])
  })

  test('retry counts only when it is all ASCII digits; unknown fields and comments change nothing', () => {
    const parsed = ours([
      'retry: 1000\nretry: 1e3\nretry: -1\nretry: ١٢\nretry:\nretry: 250\n: a comment\n:no space\nfoo: bar\ndata\n\n',
    ])
    expect(parsed.retries).toEqual([1000, 250])
    expect(parsed.comments).toEqual(['a comment', 'no space'])
    expect(parsed.events).toEqual([{ event: undefined, data: '', id: undefined }])
  })

  test('an empty event field means an unnamed event; a second data field adds a line', () => {
    const { events } = ours(['event: x\nevent:\ndata:a\ndata: b\ndata:  c\n\n'])
    expect(events).toEqual([{ event: undefined, data: 'a\nb\n c', id: undefined }])
  })

  test('a 5 MB line fed in 1,000 pieces is one event, intact', () => {
    const line = 'x'.repeat(5 * 1024 * 1024)
    const pieces = ['data: ']
    for (let at = 0; at < line.length; at += line.length / 1000) {
      pieces.push(line.slice(at, at + line.length / 1000))
    }
    pieces.push('\n\n')
    const { events } = ours(pieces)
    expect(events).toHaveLength(1)
    expect(events[0]!.data.length).toBe(line.length)
    expect(events[0]!.data === line).toBe(true)
  })
})
