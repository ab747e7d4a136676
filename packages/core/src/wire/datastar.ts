import { isConflationKey, MAX_CONFLATION_KEY_LENGTH } from '../conflation/conflationKey.js'
import { kindOf, SSEError } from '../sseError.js'
import type { SSEEvent } from '../types.js'
import { escapeHtml, isSafeHtml, type SafeHtml } from './html.js'

/** How Datastar puts patched elements into the page; `outer` (morph the element) is its default. */
export type ElementPatchMode =
  | 'outer'
  | 'inner'
  | 'replace'
  | 'prepend'
  | 'append'
  | 'before'
  | 'after'
  | 'remove'

/** The namespace new elements are created in; `html` is Datastar's default. */
export type ElementNamespace = 'html' | 'svg' | 'mathml'

/** Options of {@link patchElements}: the data lines of a `datastar-patch-elements` event. */
export interface PatchElementsOptions {
  /** CSS selector of the target. Without one, Datastar matches each top-level element by its `id`. */
  selector?: string
  /**
   * How the elements are patched in.
   * @default 'outer'
   */
  mode?: ElementPatchMode
  /**
   * Namespace of the new elements (`svg` for `<circle>` and friends).
   * @default 'html'
   */
  namespace?: ElementNamespace
  /**
   * Wrap the patch in the View Transition API.
   * @default false
   */
  useViewTransition?: boolean
}

/** Options of {@link patchSignals}. */
export interface PatchSignalsOptions {
  /**
   * Set only the signals the page does not have yet. Such a patch must not be published with a
   * conflation key: of two of them, the first one wins, not the last.
   * @default false
   */
  onlyIfMissing?: boolean
}

/** Options of {@link executeScript}. */
export interface ExecuteScriptOptions {
  /**
   * Remove the `<script>` element once it ran (`data-effect="el.remove()"`).
   * @default true
   */
  autoRemove?: boolean
  /** Attributes of the `<script>` element, such as `{ type: 'module' }`. Values are escaped. */
  attributes?: Readonly<Record<string, string>>
}

const PATCH_MODES: readonly string[] = [
  'outer',
  'inner',
  'replace',
  'prepend',
  'append',
  'before',
  'after',
  'remove',
]
const NAMESPACES: readonly string[] = ['html', 'svg', 'mathml']
const LINE_BREAK = /\r\n|\r|\n/
/** What an HTML attribute name cannot hold: whitespace, quotes, `>`, `/`, `=` and controls. */
const NOT_ATTRIBUTE_NAME = /[\s"'>/=\p{Cc}]/u

function invalid(message: string, cause?: unknown): never {
  throw new SSEError('INVALID_EVENT', `@sse/core: ${message}`, cause === undefined ? {} : { cause })
}

/** A value for an error message: a string JSON-quoted and cut at 80 characters, else its kind. */
function shown(value: unknown): string {
  if (typeof value !== 'string') return kindOf(value)
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
}

/** One line per line of `text` (CR, LF and CRLF all split), each after `field` and a space. */
function fieldLines(field: string, text: string): string[] {
  return text.split(LINE_BREAK).map((line) => `${field} ${line}`)
}

/** The event; each data line becomes one `data:` line when it is serialized. */
function datastarEvent(event: string, lines: readonly string[]): SSEEvent<string> {
  return { event, data: lines.join('\n') }
}

/** `options` as a record, after refusing what is not an object and any key not in `known`. */
function optionsOf(
  call: string,
  options: object | undefined,
  known: readonly string[],
): Partial<Record<string, unknown>> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/core: ${call} options must be an object, got ${kindOf(options)}`,
    )
  }
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue
    const hint =
      name === 'eventId' || name === 'retryDuration'
        ? ': the broker gives every event its id; spread the event to add `retry` ({ ...event, retry: 5000 })'
        : `; known: ${known.join(', ')}`
    throw new SSEError('INVALID_OPTION', `@sse/core: ${call} has no option "${name}"${hint}`)
  }
  return options as Partial<Record<string, unknown>>
}

function assertSelector(selector: unknown): asserts selector is string {
  if (typeof selector !== 'string' || selector === '' || LINE_BREAK.test(selector)) {
    invalid(`selector must be a non-empty CSS selector without CR or LF, got ${shown(selector)}`)
  }
}

function enumLine(name: string, value: unknown, allowed: readonly string[], fallback: string) {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    invalid(`${name} must be one of ${allowed.join(', ')}, got ${shown(value)}`)
  }
  return value === fallback ? [] : [`${name} ${value}`]
}

/**
 * The option lines of a patch, in the order of the options' keys as the official SDK writes them
 * (Datastar reads them in any order), defaults left out.
 */
function elementOptionLines(options: Partial<Record<string, unknown>>): string[] {
  const lines: string[] = []
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue
    if (name === 'selector') {
      assertSelector(value)
      lines.push(`selector ${value}`)
    } else if (name === 'mode') lines.push(...enumLine('mode', value, PATCH_MODES, 'outer'))
    else if (name === 'namespace') lines.push(...enumLine('namespace', value, NAMESPACES, 'html'))
    else if (name === 'useViewTransition') {
      if (typeof value !== 'boolean') {
        invalid(`useViewTransition must be a boolean, got ${shown(value)}`)
      }
      if (value) lines.push('useViewTransition true')
    }
  }
  return lines
}

function markupOf(elements: unknown): string {
  if (typeof elements === 'string') return elements
  if (isSafeHtml(elements)) return elements.valueOf()
  return invalid(`elements must be a string or html\`…\` markup, got ${kindOf(elements)}`)
}

/**
 * A `datastar-patch-elements` event: Datastar morphs `elements` into the page (by `id`, or at
 * `selector` per `mode`). Its bytes are the official SDK's (`@starfederation/datastar-sdk` 1.0)
 * for the same input, except that CR and CRLF split lines too, where the SDK would put a raw CR on
 * the wire.
 *
 * `elements` goes out as is, like string data for htmx: build it with `html` so that untrusted
 * text is escaped. Blank `elements` is refused, except for `mode: 'remove'` with a `selector`.
 *
 * There is no `eventId` option: the broker gives every published event its id, in order, so that
 * `Last-Event-ID` replay works. `retry` is the event's own field: `{ ...patchElements(x), retry: 5000 }`.
 *
 * @throws {SSEError} `INVALID_EVENT` for a selector that is empty or holds CR or LF, a mode or
 * namespace Datastar does not know, blank or non-string elements; `INVALID_OPTION` for an unknown
 * option.
 *
 * @example
 * broker.publish('feed', patchElements(html`<li id="n${note.id}">${note.title}</li>`, {
 *   selector: '#feed', mode: 'append',
 * }))
 */
export function patchElements(
  elements: string | SafeHtml,
  options?: PatchElementsOptions,
): SSEEvent<string> {
  const markup = markupOf(elements)
  const given = optionsOf('patchElements', options, [
    'selector',
    'mode',
    'namespace',
    'useViewTransition',
  ])
  const lines = elementOptionLines(given)
  const removeAtSelector = given.mode === 'remove' && given.selector !== undefined
  if (markup.trim() !== '') lines.push(...fieldLines('elements', markup))
  else if (!removeAtSelector) {
    invalid(
      `elements must not be blank, got ${shown(markup)}; to remove elements pass a selector and mode "remove" (removeElements)`,
    )
  }
  return datastarEvent('datastar-patch-elements', lines)
}

/**
 * A `datastar-patch-elements` event that removes every element matching `selector`.
 *
 * @throws {SSEError} `INVALID_EVENT` for a selector that is empty or holds CR or LF.
 *
 * @example
 * broker.publish('feed', removeElements(`#n${note.id}`))
 */
export function removeElements(selector: string): SSEEvent<string> {
  assertSelector(selector)
  return patchElements('', { selector, mode: 'remove' })
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** The JSON text of a patch, checked to be an object. */
function signalsText(signals: unknown): string {
  let text: string | undefined
  if (typeof signals === 'string') {
    text = signals
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (cause) {
      invalid(`signals must be a JSON object, got text that is not JSON: ${shown(text)}`, cause)
    }
    if (!isPlainObject(parsed)) invalid(`signals must be a JSON object, got ${kindOf(parsed)}`)
    return text
  }
  if (!isPlainObject(signals)) {
    invalid(`signals must be a plain object or its JSON text, got ${kindOf(signals)}`)
  }
  try {
    text = JSON.stringify(signals)
  } catch (cause) {
    invalid('signals could not be JSON-encoded (a cycle, or a BigInt?)', cause)
  }
  if (text === undefined || !text.startsWith('{')) {
    invalid('signals must encode to a JSON object; check its toJSON()')
  }
  return text
}

/**
 * A `datastar-patch-signals` event: Datastar merges `signals` into the page's signals (JSON Merge
 * Patch: `null` removes a signal, nested objects merge). An object is sent as compact JSON; a
 * string is taken as JSON text, checked to be an object, and sent line for line. Its bytes are the
 * official SDK's for the same JSON text.
 *
 * Publish a stream of updates with `{ key: signalsKey(signals) }` so a slow client gets the newest
 * value of each signal rather than every step (see {@link signalsKey}).
 *
 * @throws {SSEError} `INVALID_EVENT` for signals that are not a plain object (or its JSON text) or
 * cannot be JSON-encoded (a cycle); `INVALID_OPTION` for an unknown option.
 *
 * @example
 * const signals = { cpu: 42, memory: { used: 512 } }
 * broker.publish('metrics', patchSignals(signals), { key: signalsKey(signals) })
 */
export function patchSignals(
  signals: object | string,
  options?: PatchSignalsOptions,
): SSEEvent<string> {
  const text = signalsText(signals)
  const { onlyIfMissing } = optionsOf('patchSignals', options, ['onlyIfMissing'])
  if (onlyIfMissing !== undefined && typeof onlyIfMissing !== 'boolean') {
    invalid(`onlyIfMissing must be a boolean, got ${shown(onlyIfMissing)}`)
  }
  const lines = onlyIfMissing === true ? ['onlyIfMissing true'] : []
  lines.push(...fieldLines('signals', text))
  return datastarEvent('datastar-patch-signals', lines)
}

function noConflationKey(key: string): never {
  return invalid(
    `the signal paths of this patch make no conflation key (at most ${MAX_CONFLATION_KEY_LENGTH} characters, no control characters), got ${shown(key)}; publish it without a key or with one of your own`,
  )
}

/** Adds the path of every leaf of `patch` under `prefix`; a leaf is anything but a non-empty object. */
function addLeafPaths(patch: object, prefix: string, paths: string[]): void {
  for (const [name, value] of Object.entries(patch)) {
    const path = `${prefix}${name}`
    // Checked on the way down, so that a deeply nested patch fails here, not with a stack overflow.
    if (path.length >= MAX_CONFLATION_KEY_LENGTH) noConflationKey(`$${path}`)
    const isBranch = typeof value === 'object' && value !== null && !Array.isArray(value)
    if (isBranch && Object.keys(value).length > 0) addLeafPaths(value, `${path}.`, paths)
    else paths.push(`$${path}`)
  }
}

/**
 * The conflation key of a signal patch: its signal paths as Datastar expressions name them, sorted
 * and joined by commas. `{ cpu: 42 }` → `$cpu`; `{ user: { name: 'A', email: null } }` →
 * `$user.email,$user.name`.
 *
 * Why this key: a keyed event replaces the pending one of the same key, and the new one goes last.
 * Two patches that set the same leaf paths leave the page the same whether the older one is
 * applied or skipped, whatever came between them, so only they may share a key. Paths, not top-level
 * names: a patch of `user.name` must not replace a pending one of `user.email`. The `$` keeps the key
 * apart from the keys you give other events of the topic.
 *
 * A separate function, not a field of the event: the event stays a plain `SSEEvent` for
 * `stream.send()` and history, and `publish`'s options stay the broker's. Do not key a patch made
 * with `onlyIfMissing` (of two, the first wins).
 *
 * @throws {SSEError} `INVALID_EVENT` when `signals` is not a plain object or its JSON text, when it
 * has no path, or when its paths are longer than a key may be ({@link MAX_CONFLATION_KEY_LENGTH}
 * characters, no control characters): publish that patch without a key, or with a key of your own.
 *
 * @example
 * for (const host of hosts) {
 *   const signals = { hosts: { [host.name]: { cpu: host.cpu } } }
 *   broker.publish('metrics', patchSignals(signals), { key: signalsKey(signals) })
 * }
 */
export function signalsKey(signals: object | string): string {
  const patch = JSON.parse(signalsText(signals)) as object
  const paths: string[] = []
  addLeafPaths(patch, '', paths)
  if (paths.length === 0) invalid('signalsKey needs a patch with at least one signal, got {}')
  const key = paths.sort().join(',')
  if (!isConflationKey(key)) noConflationKey(key)
  return key
}

/**
 * A `datastar-patch-elements` event that appends a `<script>` to `body`, so Datastar runs it (and,
 * by default, removes it again). Its bytes are the official SDK's for the same input; attribute
 * values are escaped here, where the SDK writes them raw.
 *
 * `script` is code you wrote: it goes out as is. Put untrusted values in with `JSON.stringify`, and
 * never let `</script` into it (refused, since it would end the element early: write `<\/script`).
 *
 * @throws {SSEError} `INVALID_EVENT` for a script that is not a string or holds `</script`, an
 * attribute name with whitespace, quotes, `>`, `/`, `=` or control characters, or a value that is
 * not a string; `INVALID_OPTION` for an unknown option.
 *
 * @example
 * broker.publish(`user:${id}`, executeScript(`location.assign(${JSON.stringify(url)})`))
 * broker.publish('page', executeScript('start()', { attributes: { type: 'module' } }))
 */
export function executeScript(script: string, options?: ExecuteScriptOptions): SSEEvent<string> {
  if (typeof script !== 'string') invalid(`script must be a string, got ${kindOf(script)}`)
  if (/<\/script/i.test(script)) {
    invalid(
      'script must not contain "</script" (it would end the element early); write "<\\/script"',
    )
  }
  const { autoRemove = true, attributes = {} } = optionsOf('executeScript', options, [
    'autoRemove',
    'attributes',
  ])
  if (typeof autoRemove !== 'boolean')
    invalid(`autoRemove must be a boolean, got ${shown(autoRemove)}`)
  if (!isPlainObject(attributes)) {
    invalid(`attributes must be an object of strings, got ${kindOf(attributes)}`)
  }
  let attributeText = ''
  for (const [name, value] of Object.entries(attributes)) {
    if (name === '' || NOT_ATTRIBUTE_NAME.test(name)) {
      invalid(`script attribute name ${shown(name)} is not an HTML attribute name`)
    }
    if (typeof value !== 'string') {
      invalid(`script attribute "${name}" must be a string, got ${kindOf(value)}`)
    }
    attributeText += ` ${name}="${escapeHtml(value)}"`
  }
  if (autoRemove) attributeText += ' data-effect="el.remove()"'
  return datastarEvent('datastar-patch-elements', [
    'mode append',
    'selector body',
    ...fieldLines('elements', `<script${attributeText}>${script}</script>`),
  ])
}
