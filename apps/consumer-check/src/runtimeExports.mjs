import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCommand, tail } from './runCommand.mjs'

/**
 * @typedef {object} LoadResult
 * @property {boolean} ok whether the entry loaded
 * @property {string[]} names the names it exports at runtime (empty when it failed)
 * @property {string} [error] why it failed to load
 */

/** Loads each specifier given on the command line with `import()` and prints what it exports. */
const esmProbe = `const results = {}
for (const specifier of process.argv.slice(2)) {
  try {
    const namespace = await import(specifier)
    results[specifier] = { ok: true, names: Object.keys(namespace).filter((name) => namespace[name] !== undefined) }
  } catch (error) {
    results[specifier] = { ok: false, names: [], error: String(error?.stack ?? error) }
  }
}
process.stdout.write(JSON.stringify(results))
`

/** Loads each specifier given on the command line with `require()` and prints what it exports. */
const cjsProbe = `const results = {}
for (const specifier of process.argv.slice(2)) {
  try {
    const exported = require(specifier)
    const names = new Set(Object.keys(exported))
    if (exported.__esModule && 'default' in exported) names.add('default')
    results[specifier] = { ok: true, names: [...names].filter((name) => exported[name] !== undefined) }
  } catch (error) {
    results[specifier] = { ok: false, names: [], error: String(error?.stack ?? error) }
  }
}
process.stdout.write(JSON.stringify(results))
`

/**
 * Loads every specifier in a fresh `node` inside the consumer project, so resolution goes through
 * the project's own `node_modules` exactly as in a consumer's app.
 * @param {string} projectDir
 * @param {'import' | 'require'} how
 * @param {string[]} specifiers
 * @returns {Promise<Record<string, LoadResult>>}
 */
export async function loadEntries(projectDir, how, specifiers) {
  const file = how === 'import' ? 'load-entries.mjs' : 'load-entries.cjs'
  await writeFile(join(projectDir, file), how === 'import' ? esmProbe : cjsProbe)
  const result = await runCommand(process.execPath, [file, ...specifiers], { cwd: projectDir })
  if (result.code !== 0) {
    throw new Error(`node ${file} failed in ${projectDir}:\n${tail(result.stderr)}`)
  }
  return JSON.parse(result.stdout)
}
