import { writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { runCommand, tail } from './runCommand.mjs'

/**
 * @typedef {object} Diagnostic
 * @property {string | undefined} file absolute path, or `undefined` for a global diagnostic
 * @property {number} line 1-based (0 when there is no file)
 * @property {number} column 1-based (0 when there is no file)
 * @property {string} code for example `TS2304`
 * @property {string} message the message with its indented follow-up lines
 */

/**
 * Type-checks `include` with the consumer project's own `tsc` (its installed `typescript`) under
 * the project's tsconfig, in one run, and parses the diagnostics (`--pretty false` format).
 * @param {string} projectDir
 * @param {string} name the tsconfig is written as `tsconfig.<name>.json`
 * @param {string[]} include globs relative to the project
 * @returns {Promise<Diagnostic[]>}
 */
export async function runTsc(projectDir, name, include) {
  const configFile = `tsconfig.${name}.json`
  const config = { extends: './tsconfig.json', include }
  await writeFile(join(projectDir, configFile), `${JSON.stringify(config, null, 2)}\n`)
  const tsc = join(projectDir, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await runCommand(process.execPath, [tsc, '-p', configFile, '--pretty', 'false'], {
    cwd: projectDir,
  })
  const diagnostics = parseDiagnostics(projectDir, result.stdout)
  if (result.code !== 0 && diagnostics.length === 0) {
    throw new Error(
      `tsc -p ${configFile} failed in ${projectDir}:\n${tail(result.stdout + result.stderr)}`,
    )
  }
  return diagnostics
}

/**
 * @param {string} projectDir
 * @param {string} output
 * @returns {Diagnostic[]}
 */
function parseDiagnostics(projectDir, output) {
  /** @type {Diagnostic[]} */
  const diagnostics = []
  for (const line of output.split(/\r?\n/)) {
    const located = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line)
    const global = located ? null : /^error (TS\d+): (.*)$/.exec(line)
    if (located) {
      const [, file = '', row = '0', column = '0', code = '', message = ''] = located
      diagnostics.push({
        file: resolve(projectDir, file),
        line: Number(row),
        column: Number(column),
        code,
        message,
      })
    } else if (global) {
      const [, code = '', message = ''] = global
      diagnostics.push({ file: undefined, line: 0, column: 0, code, message })
    } else if (line.startsWith(' ') && diagnostics.length > 0) {
      const last = diagnostics[diagnostics.length - 1]
      if (last) last.message += `\n${line}`
    }
  }
  return diagnostics
}

/**
 * One diagnostic as `path:line:column TScode message`, the path relative to `base`.
 * @param {Diagnostic} diagnostic
 * @param {string} base
 * @returns {string}
 */
export function formatDiagnostic(diagnostic, base) {
  const where = diagnostic.file
    ? `${relative(base, diagnostic.file)}:${diagnostic.line}:${diagnostic.column} `
    : ''
  return `${where}${diagnostic.code} ${diagnostic.message}`
}
