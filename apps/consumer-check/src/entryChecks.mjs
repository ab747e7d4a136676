import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { declaredValues } from './declaredValues.mjs'
import { loadEntries } from './runtimeExports.mjs'

/**
 * Loads every module entry with `import()` in the ESM project and `require()` in the CommonJS
 * project, and checks that browser assets exist. Returns the names each load exported at runtime.
 * @param {import('./reporter.mjs').Reporter} reporter
 * @param {import('./consumerProjects.mjs').ConsumerProjects} projects
 * @param {import('./entryPoints.mjs').EntryPoint[]} entries
 * @returns {Promise<Record<'import' | 'require', Record<string, import('./runtimeExports.mjs').LoadResult>>>}
 */
export async function checkEntriesLoad(reporter, projects, entries) {
  for (const entry of entries.filter((candidate) => candidate.kind === 'asset')) {
    for (const file of entry.files) {
      const path = join(projects.esm, 'node_modules', entry.packageName, file)
      const exists = await access(path).then(
        () => true,
        () => false,
      )
      reporter.check(`asset ${entry.specifier} -> ${file} exists`, exists, `missing: ${path}`)
    }
  }
  const specifiers = moduleSpecifiers(entries)
  const [imported, required] = await Promise.all([
    loadEntries(projects.esm, 'import', specifiers),
    loadEntries(projects.cjs, 'require', specifiers),
  ])
  for (const [how, results] of /** @type {const} */ ([
    ['import', imported],
    ['require', required],
  ])) {
    for (const specifier of specifiers) {
      const result = results[specifier]
      reporter.check(
        `${how}('${specifier}')${result?.ok ? ` (${result.names.length} names)` : ''}`,
        result?.ok === true,
        result?.error ?? 'no result',
      )
    }
  }
  return { import: imported, require: required }
}

/**
 * Checks that every value the declarations export (as TypeScript resolves them for `import` and for
 * `require`) exists at runtime under the same load: nothing is only in the types. Names present at
 * runtime but not declared are printed as notes.
 * @param {import('./reporter.mjs').Reporter} reporter
 * @param {import('./consumerProjects.mjs').ConsumerProjects} projects
 * @param {import('./entryPoints.mjs').EntryPoint[]} entries
 * @param {Record<'import' | 'require', Record<string, import('./runtimeExports.mjs').LoadResult>>} loaded
 */
export function checkDeclaredValues(reporter, projects, entries, loaded) {
  for (const declared of declaredValues(projects, moduleSpecifiers(entries))) {
    const label = `${declared.how} '${declared.specifier}'`
    if (!declared.declarationFile) {
      reporter.check(`${label}: TypeScript resolves declarations`, false, 'no declaration file')
      continue
    }
    const runtime = loaded[declared.how][declared.specifier]
    if (!runtime?.ok) {
      reporter.check(`${label}: declared values exist at runtime`, false, 'the entry did not load')
      continue
    }
    const present = new Set(runtime.names)
    const missing = declared.values.filter((name) => !present.has(name))
    const file = declared.declarationFile.slice(
      declared.declarationFile.lastIndexOf('node_modules/'),
    )
    reporter.check(
      `${label}: ${declared.values.length} declared values exist at runtime (${file})`,
      missing.length === 0,
      `only in the types: ${missing.join(', ')}`,
    )
    const declaredNames = new Set(declared.values)
    const undeclared = runtime.names.filter((name) => !declaredNames.has(name))
    if (undeclared.length > 0) {
      reporter.note(`${label}: at runtime but not declared as values: ${undeclared.join(', ')}`)
    }
  }
}

/**
 * @param {import('./entryPoints.mjs').EntryPoint[]} entries
 * @returns {string[]}
 */
function moduleSpecifiers(entries) {
  return entries.filter((entry) => entry.kind === 'module').map((entry) => entry.specifier)
}
