import { typecheckCjsFixture } from './cjsFixture.mjs'
import { typecheckDocs } from './docsTypecheck.mjs'
import { runQuickstart } from './quickstartRun.mjs'

/** At most this many diagnostics are printed per failing check. */
const maxShown = 8

/**
 * What a self-test fixture block says it must do: `// consumer-check expects: type error` or
 * `// consumer-check expects: run failure`. Outside the self-test every block must pass.
 * @param {import('./markdownBlocks.mjs').CodeBlock} block
 * @param {boolean} selfTest
 * @returns {'pass' | 'type error' | 'run failure'}
 */
function expectation(block, selfTest) {
  if (!selfTest) return 'pass'
  const marked = /\/\/ consumer-check expects: (type error|run failure)/.exec(block.code)?.[1]
  return marked === 'type error' || marked === 'run failure' ? marked : 'pass'
}

/**
 * Type-checks the ```ts blocks in the ESM project (with every entry's `.d.ts`) and the CommonJS
 * fixture in the CommonJS project (with every entry's `.d.cts`), and reports quick start markers
 * that do not sit right above a ```ts block.
 * @param {import('./reporter.mjs').Reporter} reporter
 * @param {import('./consumerProjects.mjs').ConsumerProjects} projects
 * @param {import('./entryPoints.mjs').EntryPoint[]} entries
 * @param {import('./markdownBlocks.mjs').MarkdownScan} scan
 * @param {boolean} selfTest
 */
export async function checkDocTypes(reporter, projects, entries, scan, selfTest) {
  for (const marker of scan.strayMarkers) {
    reporter.check(`${marker}: quick start marker is directly followed by a \`\`\`ts block`, false)
  }
  const [docs, cjsErrors] = await Promise.all([
    typecheckDocs(projects.esm, scan.blocks, entries),
    typecheckCjsFixture(projects.cjs, entries),
  ])
  reporter.check(
    'ESM: every entry point type-checks (import, .d.ts, skipLibCheck false)',
    docs.entryErrors.length === 0,
    shown(docs.entryErrors),
  )
  reporter.check(
    'CommonJS: fixture and every entry point type-check (require, .d.cts, skipLibCheck false)',
    cjsErrors.length === 0,
    shown(cjsErrors),
  )
  for (const { block, errors } of docs.blocks) {
    const where = `${block.file}:${block.line}${block.quickstart ? ' (quick start)' : ''}`
    if (expectation(block, selfTest) === 'type error') {
      reporter.check(`${where} fails to type-check, as its fixture expects`, errors.length > 0)
    } else {
      reporter.check(`${where} type-checks`, errors.length === 0, shown(errors))
    }
  }
}

/**
 * Runs every quick start block against its contract (see `runQuickstart`), one after another.
 * @param {import('./reporter.mjs').Reporter} reporter
 * @param {import('./consumerProjects.mjs').ConsumerProjects} projects
 * @param {import('./markdownBlocks.mjs').MarkdownScan} scan
 * @param {boolean} selfTest
 */
export async function checkQuickstarts(reporter, projects, scan, selfTest) {
  const quickstarts = scan.blocks.filter((block) => block.quickstart)
  if (quickstarts.length === 0) reporter.note('no quick start blocks found')
  for (const block of quickstarts) {
    const where = `${block.file}:${block.line}`
    const started = performance.now()
    const failure = await runQuickstart(projects.esm, block)
    const took = `${Math.round(performance.now() - started)} ms`
    if (expectation(block, selfTest) === 'run failure') {
      reporter.check(
        `quick start ${where} fails, as its fixture expects (${took})`,
        failure !== undefined,
      )
      if (failure) reporter.note(`it failed with: ${failure.split('\n')[0]}`)
    } else {
      reporter.check(
        `quick start ${where} serves the posted text as an event (${took})`,
        !failure,
        failure,
      )
    }
  }
}

/**
 * @param {string[]} errors
 * @returns {string}
 */
function shown(errors) {
  const more = errors.length > maxShown ? `\n... and ${errors.length - maxShown} more` : ''
  return errors.slice(0, maxShown).join('\n') + more
}
