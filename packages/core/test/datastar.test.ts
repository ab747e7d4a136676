import type { Server } from 'node:http'
import { get } from 'node:http'
import {
  createBroker,
  type ExecuteScriptOptions,
  executeScript,
  html,
  type PatchElementsOptions,
  type PatchSignalsOptions,
  patchElements,
  patchSignals,
  removeElements,
  SSEError,
  type SSEEvent,
  type SSEStream,
  serializeEvent,
  signalsKey,
} from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { errorOf, type Listening, listen, listenH2, useCleanups, waitFor } from '@sse/testkit'
import { ServerSentEventGenerator } from '@starfederation/datastar-sdk/node'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)
const tick = () => new Promise((resolve) => setImmediate(resolve))

/** The calls both sides take: the official SDK's generator, and ours (our patchSignals takes JSON text too). */
interface Patcher {
  patchElements(elements: string, options?: PatchElementsOptions): unknown
  removeElements(selector: string): unknown
  patchSignals(signals: string, options?: PatchSignalsOptions): unknown
  executeScript(script: string, options?: ExecuteScriptOptions): unknown
}
type Drive = (patcher: Patcher) => void

/** A real server whose every request runs one script of the official SDK's Node adapter. */
let sdkServer: Listening<Server>
const drives = new Map<string, Drive>()
beforeAll(async () => {
  sdkServer = await listen((req, res) => {
    const drive = drives.get(req.url ?? '')
    ServerSentEventGenerator.stream(req, res, (sdk) => drive?.(sdk)).catch(() => res.destroy())
  })
})
afterAll(() => sdkServer.close())

/** The raw body the official SDK writes for `drive`, read by a real HTTP client. */
function sdkWire(drive: Drive): Promise<string> {
  const path = `/${drives.size}`
  drives.set(path, drive)
  return new Promise((resolve, reject) => {
    get(`${sdkServer.url}${path}`, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      res.on('error', reject)
    }).on('error', reject)
  })
}

/** The events our helpers make for `drive`. */
function ourEvents(drive: Drive): SSEEvent[] {
  const events: SSEEvent[] = []
  drive({
    patchElements: (elements, options) => events.push(patchElements(elements, options)),
    removeElements: (selector) => events.push(removeElements(selector)),
    patchSignals: (signals, options) => events.push(patchSignals(signals, options)),
    executeScript: (script, options) => events.push(executeScript(script, options)),
  })
  return events
}

const MODES = [
  'outer',
  'inner',
  'replace',
  'prepend',
  'append',
  'before',
  'after',
  'remove',
] as const
const FEED = '<div id="feed">\n    <span>1</span>\n\n    <span>2</span>\n</div>\n'
const NESTED = { user: { name: 'Ann', email: null, prefs: { theme: 'dark' } }, list: [1, 'two'] }
const LI = '<li id="x">x</li>'
const SVG = { selector: '#vis', mode: 'append', namespace: 'svg', useViewTransition: true } as const

const agreements: Array<[string, Drive]> = [
  ['multi-line elements, a blank line and a trailing newline', (p) => p.patchElements(FEED)],
  ...MODES.map((mode): [string, Drive] => [
    `mode ${mode} at a selector`,
    (p) => p.patchElements(LI, { selector: '#list > li', mode }),
  ]),
  [
    'options in another order (lines follow the keys, as the SDK writes them)',
    (p) => p.patchElements(FEED, { useViewTransition: true, mode: 'inner', selector: '#feed' }),
  ],
  [
    'defaults left out: mode outer, namespace html, useViewTransition false',
    (p) => p.patchElements(LI, { mode: 'outer', namespace: 'html', useViewTransition: false }),
  ],
  ['namespace svg and useViewTransition', (p) => p.patchElements('<circle id="c" r="5"/>', SVG)],
  [
    'remove at a selector, no elements line',
    (p) => p.patchElements('', { selector: '#a', mode: 'remove' }),
  ],
  ['removeElements', (p) => p.removeElements('#feed, #other')],
  ['flat signals', (p) => p.patchSignals(JSON.stringify({ cpu: 42, up: true }))],
  ['nested signals', (p) => p.patchSignals(JSON.stringify(NESTED))],
  ['multi-line JSON text, line for line', (p) => p.patchSignals(JSON.stringify(NESTED, null, 2))],
  ['onlyIfMissing true', (p) => p.patchSignals('{"theme":"dark"}', { onlyIfMissing: true })],
  ['onlyIfMissing false (left out)', (p) => p.patchSignals('{"a":1}', { onlyIfMissing: false })],
  ['executeScript', (p) => p.executeScript('console.log("hi")')],
  [
    'executeScript with attributes, kept after it ran',
    (p) =>
      p.executeScript('go()', { autoRemove: false, attributes: { type: 'module', async: 'true' } }),
  ],
  [
    'a multi-line script',
    (p) => p.executeScript('const a = 1\nconsole.log(a)', { attributes: { nonce: 'r4nd' } }),
  ],
]

describe('byte for byte what the official SDK writes on a real response', () => {
  test.each(agreements)('%s', async (_, drive) => {
    const expected = await sdkWire(drive)
    expect(expected).toMatch(/^event: datastar-patch-(elements|signals)\n(data: .*\n)+\n$/)
    expect(ourEvents(drive).map(serializeEvent).join('')).toBe(expected)
  })

  test('html`…` markup with its untrusted text escaped, and signals given as an object', async () => {
    const text = '<b onclick="x">&'
    const escaped = '<p id="m">&lt;b onclick=&quot;x&quot;&gt;&amp;</p>'
    expect(serializeEvent(patchElements(html`<p id="m">${text}</p>`))).toBe(
      await sdkWire((p) => p.patchElements(escaped)),
    )
    expect(serializeEvent(patchSignals(NESTED))).toBe(
      await sdkWire((p) => p.patchSignals(JSON.stringify(NESTED))),
    )
  })

  test('published through the broker to a real client, the same bytes with our id line added', async () => {
    const { broker, url } = await serveBroker(cleanups)
    const client = await openStream(url)
    await waitFor(() => broker.subscribers('t') === 1)
    const drives = agreements.map(([, drive]) => drive)
    for (const drive of drives) for (const event of ourEvents(drive)) broker.publish('t', event)
    await client.take(drives.length)
    const expected: string[] = []
    for (const drive of drives) expected.push(await sdkWire(drive))
    expect(client.events.every((event) => (event.id ?? '') !== '')).toBe(true)
    expect(client.text().replace(/^id: .*\n/gm, '')).toBe(expected.join(''))
  })
})

function parse(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = []
  createParser({ onEvent: (event) => events.push(event) }).feed(text)
  return events
}

describe('what a spec-compliant parser reads back', () => {
  const markup = fc
    .string({ unit: fc.constantFrom('<', '>', 'a', ' ', '"', '&', 'é', '\r', '\n') })
    .filter((text) => text.trim() !== '')
  const selector = fc.string({ minLength: 1 }).filter((text) => !/[\r\n]/.test(text))

  test('elements with CR, LF and CRLF come back as one elements line per line, after the options', () => {
    fc.assert(
      fc.property(markup, selector, fc.constantFrom(...MODES), (elements, target, mode) => {
        const [event, ...rest] = parse(
          serializeEvent(patchElements(elements, { selector: target, mode })),
        )
        expect(rest).toEqual([])
        expect(event?.event).toBe('datastar-patch-elements')
        const lines = event?.data.split('\n') ?? []
        const head =
          mode === 'outer' ? [`selector ${target}`] : [`selector ${target}`, `mode ${mode}`]
        expect(lines.slice(0, head.length)).toEqual(head)
        // What Datastar rebuilds from the elements lines: the markup, line breaks as LF.
        const body = lines.slice(head.length).map((line) => line.replace(/^elements /, ''))
        expect(body.join('\n')).toBe(elements.replace(/\r\n|\r/g, '\n'))
      }),
      { numRuns: 1000 },
    )
  })

  test('signals come back as the JSON that was sent', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (signals) => {
        const [event] = parse(serializeEvent(patchSignals(signals)))
        expect(event?.event).toBe('datastar-patch-signals')
        const json = (event?.data ?? '').replace(/^signals /, '')
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(signals)))
      }),
      { numRuns: 500 },
    )
  })
})

/** The error `fn` throws, checked to be an SSEError whose message starts with the package name. */
function refusal(fn: () => unknown): SSEError {
  const error = errorOf(fn, SSEError)
  expect(error).toBeDefined()
  expect(error?.message).toMatch(/^@sse\/core: /)
  return error as SSEError
}

describe('hostile input is refused with a typed error naming it', () => {
  test.each([
    ['a selector with LF', { selector: '#a\ndata: injected' }, 'selector'],
    ['a selector with CR', { selector: '#a\rb' }, 'selector'],
    ['an empty selector', { selector: '' }, 'selector'],
    ['a mode Datastar does not know', { mode: 'sideways' }, 'mode'],
    ['a mode in the wrong case', { mode: 'OUTER' }, 'mode'],
    ['a mode with a newline', { mode: 'inner\nselector body' }, 'mode'],
    ['a namespace Datastar does not know', { namespace: 'xml' }, 'namespace'],
    ['useViewTransition that is not a boolean', { useViewTransition: 'yes' }, 'useViewTransition'],
  ])('patchElements with %s is INVALID_EVENT', (_, options, named) => {
    const error = refusal(() => patchElements('<p id="p"></p>', options as never))
    expect(error.code).toBe('INVALID_EVENT')
    expect(error.message).toContain(named)
  })

  test('blank or non-string elements are INVALID_EVENT; removing without a selector needs elements', () => {
    for (const elements of ['', '  \n ', 42, null, { toString: () => '<p>' }]) {
      const error = refusal(() => patchElements(elements as never))
      expect(error.code).toBe('INVALID_EVENT')
      expect(error.message).toContain('elements')
    }
    expect(refusal(() => patchElements('', { mode: 'remove' })).code).toBe('INVALID_EVENT')
    expect(refusal(() => removeElements('#a\nb')).code).toBe('INVALID_EVENT')
  })

  test('SDK options that make no sense on a broker, and unknown ones, are INVALID_OPTION', () => {
    const eventId = refusal(() => patchElements('<p id="p"></p>', { eventId: '7' } as never))
    expect(eventId.code).toBe('INVALID_OPTION')
    expect(eventId.message).toContain('"eventId"')
    expect(refusal(() => patchSignals({ a: 1 }, { retryDuration: 5000 } as never)).code).toBe(
      'INVALID_OPTION',
    )
    expect(refusal(() => executeScript('x()', { auto: true } as never)).code).toBe('INVALID_OPTION')
  })

  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  test.each([
    ['an array', [1, 2]],
    ['null', null],
    ['a number', 42],
    ['a Map', new Map([['a', 1]])],
    ['a class instance', new (class Signals {})()],
    ['a cyclic object', cyclic],
    ['an object holding a BigInt', { n: 1n }],
    ['text that is not JSON', '{cpu: 42}'],
    ['JSON text of an array', '[1]'],
    ['an object whose toJSON is not an object', { toJSON: () => 'x' }],
  ])('signals that are %s are INVALID_EVENT from patchSignals and signalsKey', (_, signals) => {
    for (const make of [patchSignals, signalsKey]) {
      const error = refusal(() => make(signals as never))
      expect(error.code).toBe('INVALID_EVENT')
      expect(error.message).toContain('signals')
    }
  })

  test('executeScript refuses "</script", bad attribute names and non-string values; it escapes values', () => {
    for (const script of ['a("</script>")', 'a("</SCRIPT ")']) {
      expect(refusal(() => executeScript(script)).code).toBe('INVALID_EVENT')
    }
    for (const name of ['on load', 'a"b', 'x>', 'a=b', '', 'a\nb']) {
      const error = refusal(() => executeScript('x()', { attributes: { [name]: 'v' } }))
      expect(error.code).toBe('INVALID_EVENT')
    }
    expect(refusal(() => executeScript('x()', { attributes: { async: true } as never })).code).toBe(
      'INVALID_EVENT',
    )
    expect(executeScript('x()', { attributes: { src: '/a?b=1&c="2"' } }).data).toBe(
      'mode append\nselector body\nelements <script src="/a?b=1&amp;c=&quot;2&quot;" data-effect="el.remove()">x()</script>',
    )
  })
})

describe('signalsKey: the paths a signal patch sets', () => {
  test('leaf paths, sorted, "$"-prefixed; arrays, null and empty objects are leaves; JSON text keys the same', () => {
    expect(signalsKey({ cpu: 42 })).toBe('$cpu')
    expect(signalsKey(NESTED)).toBe('$list,$user.email,$user.name,$user.prefs.theme')
    expect(signalsKey({ b: {}, a: [{ x: 1 }] })).toBe('$a,$b')
    expect(signalsKey(JSON.stringify(NESTED, null, 2))).toBe(signalsKey(NESTED))
    expect(signalsKey({ user: { name: 'A' } })).not.toBe(signalsKey({ user: { email: 'a' } }))
  })

  test('a patch with no path, or paths past the key limit, is INVALID_EVENT', () => {
    expect(refusal(() => signalsKey({})).code).toBe('INVALID_EVENT')
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`signal${i}`, i]))
    expect(refusal(() => signalsKey(wide)).code).toBe('INVALID_EVENT')
    const deepText = `${'{"d":'.repeat(100_000)}1${'}'.repeat(100_000)}`
    expect(refusal(() => signalsKey(deepText)).code).toBe('INVALID_EVENT')
    let deep: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 100_000; i++) deep = { d: deep }
    expect(refusal(() => patchSignals(deep)).code).toBe('INVALID_EVENT')
    expect(refusal(() => signalsKey({ 'a\u0000b': 1 })).code).toBe('INVALID_EVENT')
  })
})

const PATHS = [
  (i: number) => ({ host: { cpu: i } }),
  (i: number) => ({ host: { memory: i * 2 } }),
  (i: number) => ({ disk: `${i}%` }),
]

/** The newest value per signal path in what a client received. */
function newestSignals(events: readonly { event?: string | undefined; data: string }[]) {
  const newest = new Map<string, unknown>()
  for (const { event, data } of events) {
    if (event !== 'datastar-patch-signals') continue
    const signals = JSON.parse(data.replace(/^signals /, '')) as object
    newest.set(signalsKey(signals), JSON.stringify(signals))
  }
  return newest
}

test('a client that has fallen behind gets 3 frames for a burst of 1,000 keyed signal patches on 3 paths in one turn, and is not cut', async () => {
  const broker = createBroker({ keepAlive: 0, coalesceWindow: 0 })
  const streams: SSEStream[] = []
  // Over HTTP/2, flow control makes a client that does not read push back after one window (64 KiB).
  const server = await listenH2((req, res) => {
    streams.push(broker.stream(req, res, { topics: ['metrics'] }))
  })
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  const client = await openStream(server.server, '/', { timeout: 10_000 })
  await waitFor(() => broker.subscribers('metrics') === 1)
  client.pause()
  const stream = streams[0]!
  let fillers = 0
  // Frames are written at the end of each turn (no coalescing), so bytes still held a turn later
  // are bytes the socket refused: the client is behind.
  while (stream.bufferedBytes === 0) {
    if (fillers === 1000) throw new Error('the client never fell behind')
    broker.publish('metrics', patchElements(`<pre id="log">${'.'.repeat(4000)}</pre>`))
    fillers++
    await tick()
  }
  const before = broker.stats()
  const last = new Map<string, string>()
  for (let i = 0; i < 1000; i++) {
    const signals = PATHS[i % 3]!(i)
    broker.publish('metrics', patchSignals(signals), { key: signalsKey(signals) })
    last.set(signalsKey(signals), JSON.stringify(signals))
  }
  const after = broker.stats()
  expect(after.conflated - before.conflated).toBe(997)
  expect(after.slowDisconnects).toBe(0)
  expect(stream.isClosed).toBe(false)

  client.resume()
  await client.waitFor((c) => {
    const newest = newestSignals(c.events)
    return [...last].every(([key, value]) => newest.get(key) === value)
  })
  const patches = client.events.filter((event) => event.event === 'datastar-patch-signals')
  expect(patches).toHaveLength(3)
  expect(client.events).toHaveLength(fillers + 3)
  expect(stream.isClosed).toBe(false)
})

test('a client resuming with Last-Event-ID is replayed the newest patch per signal path and every unkeyed event', async () => {
  const { broker, url } = await serveBroker(cleanups)
  const from = await broker.publish('t', patchElements('<p id="p">before</p>'))
  for (let i = 0; i < 100; i++) {
    for (const make of PATHS) {
      const signals = make(i)
      await broker.publish('t', patchSignals(signals), { key: signalsKey(signals) })
    }
    if (i === 50) await broker.publish('t', removeElements('#p'))
  }
  const client = await openStream(url, { lastEventId: from })
  await client.take(4)
  expect(client.events.map((event) => event.data)).toEqual([
    'selector #p\nmode remove',
    'signals {"host":{"cpu":99}}',
    'signals {"host":{"memory":198}}',
    'signals {"disk":"99%"}',
  ])
})
