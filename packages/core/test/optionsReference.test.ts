import { readFileSync } from 'node:fs'
import {
  codeSpans,
  compareOptionNames as compareNames,
  documentedNames,
  type OptionRow,
  optionsTable,
} from '@sse/testkit'
import { describe, expect, test } from 'vitest'
import {
  BROKER_DEFAULTS,
  HISTORY_DEFAULTS,
  JITTER_DIVISOR,
  STREAM_DEFAULTS,
} from '../src/options/defaults.js'
import {
  brokerOptionsProperties,
  lifetimeOptionsProperties,
  publishOptionsProperties,
  streamOptionsProperties,
} from '../src/options/options.js'

const OPTIONS_DOC = new URL('../../../docs/options.md', import.meta.url)

/**
 * The default a cell shows in its first code span: a number (`30000`, `30_000`) or a quoted string
 * (`'sse-reset'`); `undefined` for anything else ("none", "see there").
 */
function shownDefault(cell: string): number | string | undefined {
  const first = codeSpans(cell)[0]
  if (first === undefined) return undefined
  if (/^\d[\d_]*$/.test(first)) return Number(first.replaceAll('_', ''))
  const quoted = /^'([^']*)'$/.exec(first)
  return quoted === null ? undefined : quoted[1]
}

/** Each documented default that differs from the code's, named. */
function compareDefaults(
  schema: string,
  rows: readonly OptionRow[],
  defaults: Readonly<Record<string, number | string>>,
): string[] {
  const problems: string[] = []
  for (const row of rows) {
    const [name, ...others] = row.names
    if (name === undefined || others.length > 0 || !(name in defaults)) continue
    const expected = defaults[name]
    const shown = shownDefault(row.defaultCell)
    if (shown !== expected) {
      problems.push(
        `the ${schema} table gives "${name}" the default ${JSON.stringify(row.defaultCell)}; ` +
          `packages/core/src/options/defaults.ts says \`${typeof expected === 'string' ? `'${expected}'` : expected}\``,
      )
    }
  }
  return problems
}

const doc = readFileSync(OPTIONS_DOC, 'utf8')
const defaults: Record<string, number | string> = {
  ...STREAM_DEFAULTS,
  ...BROKER_DEFAULTS,
  ...HISTORY_DEFAULTS,
  maxDuration: 0,
}

describe('docs/options.md lists every option of the code, and no other', () => {
  test.each([
    ['broker', Object.keys(brokerOptionsProperties)],
    ['stream', Object.keys(streamOptionsProperties)],
    ['lifetime', Object.keys(lifetimeOptionsProperties)],
    ['publish', Object.keys(publishOptionsProperties)],
  ])('the %s table names exactly the options its schema accepts', (schema, accepted) => {
    expect(accepted.length).toBeGreaterThan(0)
    expect(compareNames(schema, documentedNames(optionsTable(doc, schema)), accepted)).toEqual([])
  })

  test.each(['broker', 'stream', 'lifetime'])(
    'the defaults of the %s table are those of defaults.ts',
    (schema) => {
      expect(compareDefaults(schema, optionsTable(doc, schema), defaults)).toEqual([])
    },
  )

  test('the jitter defaults to the fraction of maxDuration that defaults.ts gives', () => {
    const jitter = optionsTable(doc, 'lifetime').find((row) => row.names[0] === 'maxDurationJitter')
    expect(codeSpans(jitter?.defaultCell ?? '')[0]).toBe(`maxDuration / ${JITTER_DIVISOR}`)
  })
})

describe('the check itself', () => {
  const sample = [
    '<!-- options: stream -->',
    '| option | type | default | meaning |',
    '| --- | --- | --- | --- |',
    '| `keepAlive` | `number` | `15000` | a \\| pipe in a cell |',
    "| `onOverflow`, `retry` | `'a' \\| 'b'` | `'drop'` | two names in one row |",
    '',
  ].join('\n')

  test('names a documented option the schema lacks, and an accepted one the table lacks', () => {
    const names = documentedNames(optionsTable(sample, 'stream'))
    expect(names).toEqual(['keepAlive', 'onOverflow', 'retry'])
    expect(compareNames('stream', names, ['keepAlive', 'retry', 'headers'])).toEqual([
      'the stream table lacks option "headers", which the schema accepts',
      'the stream table lists option "onOverflow", which the schema does not have',
    ])
  })

  test('names a default that differs from the code, and skips rows of several options', () => {
    expect(compareDefaults('stream', optionsTable(sample, 'stream'), STREAM_DEFAULTS)).toEqual([
      'the stream table gives "keepAlive" the default "`15000`"; packages/core/src/options/defaults.ts says `30000`',
    ])
  })

  test('a missing marker or a marker without a table is an error naming it', () => {
    expect(() => optionsTable(sample, 'broker')).toThrow(
      'expected one "<!-- options: broker -->" line, found 0',
    )
    expect(() => optionsTable('<!-- options: broker -->\n\ntext', 'broker')).toThrow(
      'must be directly followed by a Markdown table',
    )
  })
})
