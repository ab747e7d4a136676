import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bundleFromSources } from '@sse/testkit'

const benchDir = fileURLToPath(new URL('..', import.meta.url))

/**
 * Bundles the bench's entry points with `@sse/*` taken from the packages' sources, so the smoke
 * test needs no `pnpm build`. The output lives in `apps/bench/node_modules/.bench-smoke`, where the
 * runtime-only imports of the contenders (`import(specifier)`) still resolve to
 * apps/bench/node_modules. Resolves with that directory.
 */
export async function bundleBench(): Promise<string> {
  const outdir = `${benchDir}node_modules/.bench-smoke`
  rmSync(outdir, { recursive: true, force: true })
  mkdirSync(outdir, { recursive: true })
  await bundleFromSources({
    entryPoints: ['run', 'server', 'loadWorker'].map((name) => `${benchDir}src/${name}.ts`),
    outdir,
    splitting: true,
  })
  return outdir
}
