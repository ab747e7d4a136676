import type { SSEEvent } from './types.js'

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
const UNSAFE = /[&<>"']/g

/** Escapes `& < > " '` so untrusted text can go into HTML text or a quoted attribute. */
export function escapeHtml(text: unknown): string {
  const value = String(text)
  return UNSAFE.test(value) ? value.replace(UNSAFE, (c) => ESCAPES[c]!) : value
}

/**
 * Markup that is already safe. A `String` object, so it can be published as event data as is
 * (the serializer writes `String` objects raw) and nested in other `html` templates unescaped.
 */
export class SafeHtml extends String {}

/** Marks trusted markup so `html` inserts it without escaping. Never pass user input. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup)
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.valueOf()
  if (value === null || value === undefined || value === false) return ''
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHtml(value)
}

/**
 * A tagged template for HTML fragments: every interpolated value is escaped, except `raw()` markup
 * and nested `html` results; arrays are joined; `null`, `undefined` and `false` render nothing.
 *
 * @example
 * broker.publish('notifications', { data: html`<li>${note.title}</li>` })
 * html`<ul>${notes.map((n) => html`<li>${n.title}</li>`)}</ul>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!
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
