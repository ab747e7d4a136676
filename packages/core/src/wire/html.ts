import { SSEError } from '../sseError.js'
import type { SSEEvent } from '../types.js'

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
const UNSAFE = /[&<>"']/g

/**
 * The brand of {@link SafeHtml}. A registered symbol, so the ESM and the CJS build of this package
 * (two copies of this module in one process) recognize each other's markup, where `instanceof`
 * would not.
 */
const SAFE_HTML: unique symbol = Symbol.for('@sse/core.SafeHtml')

/**
 * Escapes `& < > " '`, so untrusted text can go into HTML text or into an attribute value in
 * quotes (`title="${...}"`). That is all it does: it does not sanitize URLs
 * (`href="javascript:…"` stays executable), and it does not make an unquoted attribute value safe.
 *
 * @throws {SSEError} `INVALID_HTML_VALUE` if `String(text)` throws, e.g. for an
 * `Object.create(null)` object.
 */
export function escapeHtml(text: unknown): string {
  const value = toText(text)
  return UNSAFE.test(value) ? value.replace(UNSAFE, (c) => ESCAPES[c]!) : value
}

function toText(value: unknown): string {
  try {
    return String(value)
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw new SSEError(
      'INVALID_HTML_VALUE',
      `@sse/core: html cannot turn an interpolated value into text: String(value) threw "${reason}". ` +
        'Interpolate a string or a number, or an object with a working toString() ' +
        '(an Object.create(null) object has none).',
      { cause },
    )
  }
}

/**
 * Markup that is already safe. A `String` object, so it can be published as event data as is
 * (the serializer writes `String` objects raw) and nested in other `html` templates unescaped.
 * Check for it with {@link isSafeHtml}, not `instanceof`: markup made by the other build of this
 * package (ESM or CJS) is a `SafeHtml` of another class.
 */
export class SafeHtml extends String {
  /** The brand {@link isSafeHtml} checks; on the prototype, so every instance has it. */
  get [SAFE_HTML](): true {
    return true
  }
}

/**
 * Whether `value` is trusted markup from `raw()` or `html`, made by this copy of the package or
 * by another one (its ESM and CJS builds loaded side by side).
 */
export function isSafeHtml(value: unknown): value is SafeHtml {
  return (
    value instanceof SafeHtml ||
    (value instanceof String && (value as { [SAFE_HTML]?: unknown })[SAFE_HTML] === true)
  )
}

/** Marks trusted markup so `html` inserts it without escaping. Never pass user input. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup)
}

/** `open` holds the arrays being rendered, outermost first: meeting one again is a cycle. */
function render(value: unknown, open: Set<readonly unknown[]>): string {
  if (isSafeHtml(value)) return value.valueOf()
  if (value === null || value === undefined || value === false) return ''
  if (!Array.isArray(value)) return escapeHtml(value)
  if (open.has(value)) {
    throw new SSEError(
      'INVALID_HTML_VALUE',
      '@sse/core: html cannot interpolate an array that contains itself (directly or through ' +
        'a nested array). Interpolate an array without cycles.',
    )
  }
  open.add(value)
  let out = ''
  for (const item of value) out += render(item, open)
  // The same array may still appear again beside this one, just not inside it.
  open.delete(value)
  return out
}

/**
 * A tagged template for HTML fragments: every interpolated value is escaped, except `raw()` markup
 * and nested `html` results; arrays are flattened and joined; `null`, `undefined` and `false`
 * render nothing.
 *
 * Escaping makes values safe in text and in attribute values in quotes. It does not sanitize URLs
 * (`href="${url}"` still accepts `javascript:…`; check the scheme yourself), and it does not make
 * unquoted attribute values (`<a title=${value}>`) or values inside `<script>`/`<style>` safe.
 *
 * @throws {SSEError} `INVALID_HTML_VALUE` for a value whose `String()` throws (e.g. an
 * `Object.create(null)` object), or an array that contains itself.
 *
 * @example
 * broker.publish('notifications', { data: html`<li>${note.title}</li>` })
 * html`<ul>${notes.map((n) => html`<li>${n.title}</li>`)}</ul>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  const open = new Set<readonly unknown[]>()
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i], open) + strings[i + 1]!
  return new SafeHtml(out)
}

/**
 * A refresh signal: `event: <name>`, `data: changed`. The page re-fetches its partial with
 * `hx-trigger="sse:<name>"` (htmx 2 + htmx-ext-sse).
 *
 * @example
 * broker.publish(`game:${id}`, refreshEvent('refresh-scoreboard'))
 */
export function refreshEvent(name: string): SSEEvent<string> {
  return { event: name, data: 'changed' }
}

/**
 * A JSON state event, for a client-side island (e.g. Alpine) that merges it.
 *
 * @example
 * broker.publish(`game:${id}`, stateEvent(game))   // event: state, data: {"home":1,...}
 */
export function stateEvent<TState>(state: TState, name = 'state'): SSEEvent<TState> {
  return { event: name, data: state }
}
