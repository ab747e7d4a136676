import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { entryImportsModule } from './entryImports.mjs'
import { formatDiagnostic, runTsc } from './tscRun.mjs'

/**
 * @typedef {object} BlockTypecheck
 * @property {import('./markdownBlocks.mjs').CodeBlock} block
 * @property {string} moduleFile the block's `.ts` file in the ESM project
 * @property {string[]} errors diagnostics, located at `file.md:line:column` of the Markdown
 */

/**
 * @typedef {object} DocsTypecheck
 * @property {BlockTypecheck[]} blocks one result per code block
 * @property {string[]} entryErrors diagnostics in the packages' declarations (or anywhere outside
 *   the blocks), met while type-checking the blocks and a module importing every entry point
 */

/**
 * Writes every block as its own module in the ESM project, next to a module importing every entry
 * point, and type-checks them all in one `tsc` run. Each diagnostic in a block is mapped back to
 * the line of the Markdown file it came from.
 * @param {string} projectDir the ESM consumer project
 * @param {import('./markdownBlocks.mjs').CodeBlock[]} blocks
 * @param {import('./entryPoints.mjs').EntryPoint[]} entries
 * @returns {Promise<DocsTypecheck>}
 */
export async function typecheckDocs(projectDir, blocks, entries) {
  const blockDir = join(projectDir, 'docs-blocks')
  await rm(blockDir, { recursive: true, force: true })
  await mkdir(blockDir, { recursive: true })
  /** @type {Map<string, BlockTypecheck>} */
  const byModule = new Map()
  for (const block of blocks) {
    const moduleFile = join(blockDir, `${block.file.replace(/[^\w.-]+/g, '_')}-L${block.line}.ts`)
    await writeFile(moduleFile, `${block.code}\n`)
    byModule.set(moduleFile, { block, moduleFile, errors: [] })
  }
  await writeFile(join(blockDir, 'all-entries.ts'), entryImportsModule(entries))
  /** @type {string[]} */
  const entryErrors = []
  for (const diagnostic of await runTsc(projectDir, 'docs', ['docs-blocks/**/*.ts'])) {
    const owner = diagnostic.file === undefined ? undefined : byModule.get(diagnostic.file)
    if (owner) {
      // The code starts on the line after the opening fence.
      const line = owner.block.line + diagnostic.line
      owner.errors.push(
        `${owner.block.file}:${line}:${diagnostic.column} ${diagnostic.code} ${diagnostic.message}`,
      )
    } else {
      entryErrors.push(formatDiagnostic(diagnostic, projectDir))
    }
  }
  return { blocks: [...byModule.values()], entryErrors }
}
