// The options tables of docs/options.md, read so that tests can hold them to the schemas: each table
// follows a `<!-- options: <schema> -->` line and lists option names in backticks in its first column.

/** One row of an options table: the option names of its first column, and its default cell. */
export interface OptionRow {
  readonly names: readonly string[]
  readonly defaultCell: string
}

/** Splits a Markdown table row into its cells; `\|` inside a cell is not a separator. */
function cellsOf(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim())
}

/** The texts of a cell's code spans, in order. */
export function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '')
}

/**
 * The rows of the table directly after `<!-- options: <schema> -->` in `doc`. Throws a readable
 * error when the marker is missing, repeated, or not followed by a table.
 */
export function optionsTable(doc: string, schema: string): OptionRow[] {
  const lines = doc.split('\n')
  const marker = `<!-- options: ${schema} -->`
  const at = lines.flatMap((line, index) => (line.trim() === marker ? [index] : []))
  if (at.length !== 1) {
    throw new Error(`docs/options.md: expected one "${marker}" line, found ${at.length}`)
  }
  const table: string[] = []
  for (const line of lines.slice((at[0] ?? 0) + 1)) {
    if (!line.trim().startsWith('|')) break
    table.push(line)
  }
  const [header, separator, ...rows] = table
  if (header === undefined || separator === undefined || !/^\|[\s:|-]+\|$/.test(separator.trim())) {
    throw new Error(`docs/options.md: "${marker}" must be directly followed by a Markdown table`)
  }
  const defaultColumn = cellsOf(header).findIndex((cell) => cell.toLowerCase() === 'default')
  return rows.map((row) => {
    const cells = cellsOf(row)
    return {
      names: codeSpans(cells[0] ?? '').filter((name) => /^[A-Za-z]\w*$/.test(name)),
      defaultCell: defaultColumn === -1 ? '' : (cells[defaultColumn] ?? ''),
    }
  })
}

/** The option names of a table, each once, sorted. */
export function documentedNames(rows: readonly OptionRow[]): string[] {
  return [...new Set(rows.flatMap((row) => row.names))].sort()
}

/**
 * Compares what a table documents with what a schema accepts, in both directions: one message per
 * option missing from the table and per option the schema does not have. Empty when they agree.
 */
export function compareOptionNames(
  schema: string,
  documented: readonly string[],
  accepted: readonly string[],
): string[] {
  return [
    ...accepted
      .filter((name) => !documented.includes(name))
      .map((name) => `the ${schema} table lacks option "${name}", which the schema accepts`),
    ...documented
      .filter((name) => !accepted.includes(name))
      .map((name) => `the ${schema} table lists option "${name}", which the schema does not have`),
  ]
}
