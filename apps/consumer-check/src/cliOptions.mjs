import { parseArgs } from 'node:util'

/**
 * @typedef {object} CliOptions
 * @property {string[]} docs glob patterns of the Markdown files, relative to `docsRoot`
 * @property {string} docsRoot where the globs start (the repository, or the fixtures)
 * @property {boolean} selfTest run against the fixtures and check the expected outcomes
 * @property {string | undefined} workdir keep the projects in this folder instead of a temporary one
 * @property {boolean} reuseInstall skip pack and install, reusing the projects in `workdir`
 * @property {boolean} help
 */

export const usage = `Usage: node apps/consumer-check/src/main.mjs [options]
  (or: pnpm --filter @sse/consumer-check check [options])

Packs the published packages, installs them from the npm registry into fresh ESM and CommonJS
projects, loads every entry point, compares the declared values with the runtime ones,
type-checks every \`\`\`ts block of the docs and runs the quick starts. Run \`pnpm build\` first.

  --docs <glob>       Markdown files to check (repeatable; relative to the repository; default:
                      README.md, docs/*.md, packages/*/README.md). Env: CONSUMER_CHECK_DOCS
                      (comma-separated).
  --self-test         check the fixtures in apps/consumer-check/fixtures/docs instead: blocks
                      marked "// consumer-check expects: type error" or "... run failure" must
                      fail that way, every other block must pass.
  --workdir <dir>     build the projects in <dir> and keep them (default: a temporary folder,
                      removed at the end)
  --reuse-install     with --workdir: skip pack and npm install, reuse the projects there
  --help              this text`

/**
 * @param {string[]} argv
 * @param {{ repoRoot: string, fixturesRoot: string, defaultDocs: string[] }} defaults
 * @returns {CliOptions}
 */
export function parseCliOptions(argv, defaults) {
  const { values } = parseArgs({
    // pnpm 10 passes a `--` separator through to the script.
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      docs: { type: 'string', multiple: true },
      'self-test': { type: 'boolean', default: false },
      workdir: { type: 'string' },
      'reuse-install': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const selfTest = values['self-test'] ?? false
  const fromEnv = process.env.CONSUMER_CHECK_DOCS?.split(',').filter((glob) => glob.trim() !== '')
  const docs = values.docs ?? (fromEnv?.length ? fromEnv : undefined)
  if (values['reuse-install'] && !values.workdir) {
    throw new Error('--reuse-install needs --workdir <dir> (the projects of an earlier run)')
  }
  return {
    docs: docs ?? (selfTest ? ['*.md'] : defaults.defaultDocs),
    docsRoot: selfTest ? defaults.fixturesRoot : defaults.repoRoot,
    selfTest,
    workdir: values.workdir,
    reuseInstall: values['reuse-install'] ?? false,
    help: values.help ?? false,
  }
}
