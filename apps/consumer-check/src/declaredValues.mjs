import { join } from 'node:path'
import ts from 'typescript'
import { consumerCompilerOptions } from './consumerProjects.mjs'

/**
 * @typedef {object} DeclaredEntry
 * @property {string} specifier
 * @property {'import' | 'require'} how
 * @property {string | undefined} declarationFile the `.d.ts`/`.d.cts` TypeScript resolved, if any
 * @property {string[]} values the names the declarations export as runtime values
 */

/**
 * Resolves every specifier the way TypeScript does for an `import` (in the ESM project) and for a
 * `require` (in the CommonJS project), and lists the names each resolved declaration file exports
 * as VALUES: functions, classes, variables, enums and namespaces with values. Types, interfaces,
 * type aliases, const enums and `export type` re-exports are left out, since nothing of them exists
 * at runtime.
 * @param {import('./consumerProjects.mjs').ConsumerProjects} projects
 * @param {string[]} specifiers
 * @returns {DeclaredEntry[]}
 */
export function declaredValues(projects, specifiers) {
  const { options } = ts.convertCompilerOptionsFromJson(consumerCompilerOptions, projects.esm)
  /** @type {Array<Omit<DeclaredEntry, 'values'>>} */
  const resolved = []
  for (const [how, dir, mode] of /** @type {const} */ ([
    ['import', projects.esm, ts.ModuleKind.ESNext],
    ['require', projects.cjs, ts.ModuleKind.CommonJS],
  ])) {
    const containingFile = join(dir, 'index.ts')
    for (const specifier of specifiers) {
      const { resolvedModule } = ts.resolveModuleName(
        specifier,
        containingFile,
        options,
        ts.sys,
        undefined,
        undefined,
        mode,
      )
      resolved.push({ specifier, how, declarationFile: resolvedModule?.resolvedFileName })
    }
  }
  const rootNames = resolved.flatMap((entry) => entry.declarationFile ?? [])
  const program = ts.createProgram({ rootNames, options })
  const checker = program.getTypeChecker()
  return resolved.map((entry) => ({
    ...entry,
    values: entry.declarationFile ? valueExports(program, checker, entry.declarationFile) : [],
  }))
}

/**
 * @param {ts.Program} program
 * @param {ts.TypeChecker} checker
 * @param {string} fileName
 * @returns {string[]}
 */
function valueExports(program, checker, fileName) {
  const sourceFile = program.getSourceFile(fileName)
  const moduleSymbol = sourceFile && checker.getSymbolAtLocation(sourceFile)
  if (!moduleSymbol) throw new Error(`TypeScript found no module in ${fileName}`)
  return checker
    .getExportsOfModule(moduleSymbol)
    .filter((symbol) => isRuntimeValue(checker, symbol))
    .map((symbol) => symbol.escapedName.toString())
    .sort()
}

/**
 * Whether an exported symbol exists at runtime: follows re-export aliases one hop at a time (an
 * `export type { X }` or `import type` on the way makes it types-only), then tests the target's
 * flags.
 * @param {ts.TypeChecker} checker
 * @param {ts.Symbol} symbol
 * @returns {boolean}
 */
function isRuntimeValue(checker, symbol) {
  let current = symbol
  for (let hops = 0; current.flags & ts.SymbolFlags.Alias; hops += 1) {
    if (hops > 50) throw new Error(`alias chain too long for ${symbol.escapedName}`)
    if (current.declarations?.some((node) => ts.isTypeOnlyImportOrExportDeclaration(node))) {
      return false
    }
    const next = checker.getImmediateAliasedSymbol(current)
    if (!next) return false
    current = next
  }
  const flags = current.flags
  if (flags & ts.SymbolFlags.ConstEnum && !(flags & ts.SymbolFlags.RegularEnum)) return false
  return (flags & ts.SymbolFlags.Value) !== 0
}
