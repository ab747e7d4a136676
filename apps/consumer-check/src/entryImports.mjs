/**
 * A TypeScript module that imports every module entry point as a namespace, so that one `tsc` run
 * type-checks each entry's declarations (skipLibCheck false) in the project's module format.
 * @param {import('./entryPoints.mjs').EntryPoint[]} entries
 * @returns {string}
 */
export function entryImportsModule(entries) {
  const modules = entries.filter((entry) => entry.kind === 'module')
  const imports = modules.map(
    (entry, index) => `import * as entry${index} from '${entry.specifier}'`,
  )
  const names = modules.map((_, index) => `entry${index}`)
  return `${imports.join('\n')}\n\nexport const entries = [${names.join(', ')}]\n`
}
