import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bundleFromSources } from '@sse/testkit'

const benchDir = fileURLToPath(new URL('..', import.meta.url))

/**
 * Bundles `entries` (paths under apps/bench/src, without `.ts`) with `@sse/*` taken from the
 * packages' sources, so a test needs no `pnpm build`. The output lives in
 * `apps/bench/node_modules/<name>`, where the runtime-only imports of the contenders
 * (`import(specifier)`) still resolve to apps/bench/node_modules. Resolves with that directory.
 */
async function bundleEntries(entries: readonly string[], name: string): Promise<string> {
  const outdir = `${benchDir}node_modules/${name}`
  rmSync(outdir, { recursive: true, force: true })
  mkdirSync(outdir, { recursive: true })
  await bundleFromSources({
    entryPoints: entries.map((entry) => `${benchDir}src/${entry}.ts`),
    outdir,
    splitting: true,
  })
  return outdir
}

/** The bench's orchestrator, server and load worker, bundled for the smoke test. */
export function bundleBench(): Promise<string> {
  return bundleEntries(['run', 'server', 'loadWorker'], '.bench-smoke')
}

/** The scale scenario's orchestrator and child entry points, side by side in one directory. */
export function bundleScale(): Promise<string> {
  const entries = ['scaleRun', 'scaleServer', 'scaleClient', 'scalePublisher']
  return bundleEntries(
    entries.map((entry) => `scale/${entry}`),
    '.bench-scale',
  )
}
