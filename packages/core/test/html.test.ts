import { escapeHtml, html, raw, SafeHtml, SSEError, serializeEvent } from '@sse/core'
import { describe, expect, test, vi } from 'vitest'
import { isSafeHtml } from '../src/wire/html.js'

/** Runs `fn`, expects it to throw an `SSEError`, and returns that error. */
function sseErrorOf(fn: () => unknown): SSEError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SSEError)
    return error as SSEError
  }
  throw new Error('expected an SSEError, nothing was thrown')
}

/** Markup as another copy of `@sse/core` (its other build) makes it: branded, not our class. */
function foreignSafeHtml(markup: string): String {
  return Object.assign(new String(markup), { [Symbol.for('@sse/core.SafeHtml')]: true })
}

describe('html escapes what it interpolates', () => {
  test('& < > " and \' in a value are escaped', () => {
    expect(String(html`<p title="${`"'`}">${'a & b <c> d'}</p>`)).toBe(
      '<p title="&quot;&#39;">a &amp; b &lt;c&gt; d</p>',
    )
  })

  test('escapeHtml escapes the same five characters and leaves the rest alone', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    )
    expect(escapeHtml('plain text, 42')).toBe('plain text, 42')
    expect(escapeHtml(42)).toBe('42')
  })

  test('the template itself is trusted and left as written', () => {
    expect(String(html`<b class="x">&amp;</b>`)).toBe('<b class="x">&amp;</b>')
  })

  test('numbers, true and objects with toString() render as their text', () => {
    const point = { toString: () => '<1,2>' }
    expect(String(html`${0} ${7.5} ${true} ${point}`)).toBe('0 7.5 true &lt;1,2&gt;')
  })

  test('null, undefined and false render nothing', () => {
    expect(String(html`[${null}${undefined}${false}]`)).toBe('[]')
  })

  test('a String object that is not SafeHtml is escaped like a string', () => {
    expect(String(html`${new String('<b>')}`)).toBe('&lt;b&gt;')
  })
})

describe('html nests trusted markup', () => {
  test('a nested html result is inserted without being escaped again', () => {
    const inner = html`<li>${'<x>'}</li>`
    expect(String(html`<ul>${inner}</ul>`)).toBe('<ul><li>&lt;x&gt;</li></ul>')
  })

  test('raw() markup is inserted as is', () => {
    expect(String(html`<div>${raw('<b>bold</b>')}</div>`)).toBe('<div><b>bold</b></div>')
  })

  test('arrays are flattened and joined without separators, at any depth', () => {
    const items = ['a', ['<b>', [html`<i>c</i>`, null]], false, 1]
    expect(String(html`<p>${items}</p>`)).toBe('<p>a&lt;b&gt;<i>c</i>1</p>')
  })

  test('the same array may appear twice side by side: only an array inside itself is a cycle', () => {
    const pair = ['x', 'y']
    expect(String(html`${[pair, pair]}|${pair}`)).toBe('xyxy|xy')
  })

  test('html results are SafeHtml, String objects the serializer writes raw', () => {
    const markup = html`<b>${'&'}</b>`
    expect(markup).toBeInstanceOf(SafeHtml)
    expect(markup).toBeInstanceOf(String)
    expect(isSafeHtml(markup)).toBe(true)
    expect(serializeEvent({ data: markup })).toBe('data: <b>&amp;</b>\n\n')
  })
})

describe('html refuses values it cannot render', () => {
  test('a null-prototype object throws INVALID_HTML_VALUE with the TypeError as its cause', () => {
    const bare = Object.create(null) as object
    const error = sseErrorOf(() => html`<p>${bare}</p>`)
    expect(error.code).toBe('INVALID_HTML_VALUE')
    expect(error.message).toMatch(/^@sse\/core: html cannot turn an interpolated value into text/)
    expect(error.message).toContain('Object.create(null)')
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  test('escapeHtml of a null-prototype object throws the same coded error', () => {
    const error = sseErrorOf(() => escapeHtml(Object.create(null)))
    expect(error.code).toBe('INVALID_HTML_VALUE')
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  test('a value whose toString() throws is reported with that error as the cause', () => {
    const boom = new Error('no text for you')
    const error = sseErrorOf(
      () =>
        html`${{
          toString() {
            throw boom
          },
        }}`,
    )
    expect(error.code).toBe('INVALID_HTML_VALUE')
    expect(error.message).toContain('no text for you')
    expect(error.cause).toBe(boom)
  })

  test('an array that contains itself throws INVALID_HTML_VALUE, not a stack overflow', () => {
    const loop: unknown[] = ['a']
    loop.push(loop)
    const error = sseErrorOf(() => html`<p>${loop}</p>`)
    expect(error.code).toBe('INVALID_HTML_VALUE')
    expect(error.message).toMatch(
      /^@sse\/core: html cannot interpolate an array that contains itself/,
    )
  })

  test('a cycle through a nested array is caught too', () => {
    const outer: unknown[] = []
    const inner: unknown[] = ['x', outer]
    outer.push('y', inner)
    expect(sseErrorOf(() => html`${[outer]}`).code).toBe('INVALID_HTML_VALUE')
  })
})

describe('SafeHtml from another copy of @sse/core is trusted', () => {
  test('markup branded with the registered symbol is inserted unescaped', () => {
    const foreign = foreignSafeHtml('<b>x</b>')
    expect(foreign).not.toBeInstanceOf(SafeHtml)
    expect(isSafeHtml(foreign)).toBe(true)
    expect(String(html`<p>${foreign}</p>`)).toBe('<p><b>x</b></p>')
  })

  test('raw() from a second instance of the module is trusted by this one', async () => {
    vi.resetModules()
    const copy: typeof import('../src/wire/html.js') = await import('../src/wire/html.js')
    const foreign = copy.raw('<b>x</b>')
    expect(copy.SafeHtml).not.toBe(SafeHtml)
    expect(foreign).not.toBeInstanceOf(SafeHtml)
    expect(String(html`<p>${foreign}</p>`)).toBe('<p><b>x</b></p>')
    expect(String(copy.html`<p>${raw('<i>y</i>')}</p>`)).toBe('<p><i>y</i></p>')
  })

  test('the brand alone is not enough: a branded object that is not a String is escaped', () => {
    const impostor = { [Symbol.for('@sse/core.SafeHtml')]: true, toString: () => '<b>x</b>' }
    expect(isSafeHtml(impostor)).toBe(false)
    expect(String(html`${impostor}`)).toBe('&lt;b&gt;x&lt;/b&gt;')
  })
})
