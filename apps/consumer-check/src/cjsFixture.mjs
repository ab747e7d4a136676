import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { entryImportsModule } from './entryImports.mjs'
import { formatDiagnostic, runTsc } from './tscRun.mjs'

/** The hand-written CommonJS consumer: one typed use of each package's main entry. */
const fixture = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'cjs',
  'consumer.ts',
)

/**
 * Type-checks, in the CommonJS project, the fixture using each package's main entry and a module
 * importing every entry point: both resolve through `require` to the `.d.cts` declarations.
 * @param {string} projectDir the CommonJS consumer project
 * @param {import('./entryPoints.mjs').EntryPoint[]} entries
 * @returns {Promise<string[]>} the diagnostics, empty when it type-checks
 */
export async function typecheckCjsFixture(projectDir, entries) {
  const dir = join(projectDir, 'cjs-fixture')
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await copyFile(fixture, join(dir, 'consumer.ts'))
  await writeFile(join(dir, 'all-entries.ts'), entryImportsModule(entries))
  const diagnostics = await runTsc(projectDir, 'cjs-fixture', ['cjs-fixture/**/*.ts'])
  return diagnostics.map((diagnostic) => formatDiagnostic(diagnostic, projectDir))
}
