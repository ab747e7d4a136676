#!/usr/bin/env node
// The consumer check: what a user of the published packages gets, checked on the packed tarballs
// installed from the npm registry into fresh ESM and CommonJS projects. See `--help`.
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseCliOptions, usage } from './cliOptions.mjs'
import { createConsumerProjects, existingConsumerProjects } from './consumerProjects.mjs'
import { defaultDocGlobs, expandGlobs } from './docFiles.mjs'
import { checkDocTypes, checkQuickstarts } from './docsChecks.mjs'
import { checkDeclaredValues, checkEntriesLoad } from './entryChecks.mjs'
import { entryPointsOf } from './entryPoints.mjs'
import { scanMarkdown } from './markdownBlocks.mjs'
import { packPackages } from './packPackages.mjs'
import { Reporter } from './reporter.mjs'

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const repoRoot = join(appRoot, '..', '..')
const fixturesRoot = join(appRoot, 'fixtures', 'docs')

process.exitCode = await main(process.argv.slice(2))

/**
 * @param {string[]} argv
 * @returns {Promise<number>} the exit code
 */
async function main(argv) {
  /** @type {import('./cliOptions.mjs').CliOptions} */
  let options
  try {
    options = parseCliOptions(argv, { repoRoot, fixturesRoot, defaultDocs: defaultDocGlobs })
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`)
    return 2
  }
  if (options.help) {
    console.log(usage)
    return 0
  }
  const reporter = new Reporter()
  // pnpm runs the script in apps/consumer-check; INIT_CWD is where it was called from.
  const workdir = options.workdir
    ? resolve(process.env.INIT_CWD ?? process.cwd(), options.workdir)
    : await mkdtemp(join(tmpdir(), 'sse-consumer-check-'))
  console.log(
    `consumer check in ${workdir}${options.selfTest ? ' (self-test on the fixtures)' : ''}`,
  )
  try {
    await runChecks(reporter, options, workdir)
  } catch (error) {
    reporter.check(
      'the consumer check ran to its end',
      false,
      error instanceof Error ? (error.stack ?? error.message) : String(error),
    )
  } finally {
    if (!options.workdir) await rm(workdir, { recursive: true, force: true })
  }
  reporter.summary()
  return reporter.failed > 0 ? 1 : 0
}

/**
 * @param {Reporter} reporter
 * @param {import('./cliOptions.mjs').CliOptions} options
 * @param {string} workdir
 */
async function runChecks(reporter, options, workdir) {
  const projects = options.reuseInstall
    ? await existingConsumerProjects(workdir)
    : await packAndInstall(reporter, workdir)
  const packageNames = Object.entries(projects.dependencies)
    .filter(([, spec]) => spec.startsWith('file:'))
    .map(([name]) => name)

  const entries = (
    await Promise.all(packageNames.map((name) => entryPointsOf(projects.esm, name)))
  ).flat()
  const loaded = await reporter.phase('load every entry point (import and require)', () =>
    checkEntriesLoad(reporter, projects, entries),
  )
  await reporter.phase('declared values exist at runtime (TypeScript checker)', async () =>
    checkDeclaredValues(reporter, projects, entries, loaded),
  )

  const files = await expandGlobs(options.docsRoot, options.docs)
  const scan = await scanMarkdown(options.docsRoot, files)
  await reporter.phase('type-check docs blocks (ESM) and the CommonJS fixture', async () => {
    const quickstarts = scan.blocks.filter((block) => block.quickstart).length
    reporter.check(
      `docs: ${files.length} Markdown files (${options.docs.join(', ')}), ` +
        `${scan.blocks.length} \`\`\`ts blocks, ${quickstarts} quick starts`,
      files.length > 0,
      `no Markdown file matched under ${options.docsRoot}`,
    )
    await checkDocTypes(reporter, projects, entries, scan, options.selfTest)
  })
  await reporter.phase('run the quick starts', () =>
    checkQuickstarts(reporter, projects, scan, options.selfTest),
  )
}

/**
 * @param {Reporter} reporter
 * @param {string} workdir
 * @returns {Promise<import('./consumerProjects.mjs').ConsumerProjects>}
 */
async function packAndInstall(reporter, workdir) {
  const packed = await reporter.phase('pack the published packages (pnpm pack)', async () => {
    const destination = join(workdir, 'packs')
    await rm(destination, { recursive: true, force: true })
    await mkdir(destination, { recursive: true })
    const tarballs = await packPackages(repoRoot, destination)
    for (const { name, dir, tarball } of tarballs) {
      const built = await access(join(dir, 'dist')).then(
        () => true,
        () => false,
      )
      reporter.check(
        `${name} is built and packed: ${basename(tarball)}`,
        built,
        'no dist/: run `pnpm build` first',
      )
    }
    return tarballs
  })
  return reporter.phase('install into fresh ESM and CommonJS projects (npm)', () =>
    createConsumerProjects(workdir, packed, (text) => reporter.note(text)),
  )
}
