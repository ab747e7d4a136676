import { mkdirSync, rmSync } from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The slice of esbuild's API this helper uses. */
interface EsbuildPluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (args: ResolveArgs) => Promise<ResolveResult | undefined> | ResolveResult | undefined,
  ): void
  resolve(
    path: string,
    options: { kind: string; resolveDir: string; pluginData: unknown },
  ): Promise<{
    path: string
    errors: unknown[]
  }>
}
interface ResolveArgs {
  path: string
  importer: string
  resolveDir: string
  kind: string
  pluginData: unknown
}
interface ResolveResult {
  path: string
  external?: boolean
}
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>
}

const benchDir = fileURLToPath(new URL('..', import.meta.url))
const SKIP = Symbol('resolving')

/** esbuild, from the copy tsup (a root devDependency) ships with. */
function loadEsbuild(): Esbuild {
  const require = createRequire(import.meta.url)
  return createRequire(require.resolve('tsup'))('esbuild') as Esbuild
}

/**
 * Bundles the bench's entry points with `@sse/*` taken from the packages' sources, so the smoke
 * test needs no `pnpm build`. Every other package stays external, imported by its absolute path
 * (packages' own dependencies are not visible from apps/bench). The output lives in
 * `apps/bench/node_modules/.bench-smoke`, where the runtime-only imports of the contenders
 * (`import(specifier)`) still resolve to apps/bench/node_modules.
 */
export async function bundleFromSources(): Promise<string> {
  const outdir = `${benchDir}node_modules/.bench-smoke`
  rmSync(outdir, { recursive: true, force: true })
  mkdirSync(outdir, { recursive: true })
  const esbuild = loadEsbuild()
  await esbuild.build({
    entryPoints: ['run', 'server', 'loadWorker'].map((name) => `${benchDir}src/${name}.ts`),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    conditions: ['@sse/source'],
    plugins: [
      {
        name: 'sse-sources',
        setup(build: EsbuildPluginBuild) {
          build.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.pluginData === SKIP || isBuiltin(args.path)) return undefined
            // Our own packages are bundled from their sources (the `@sse/source` export condition).
            if (args.path.startsWith('@sse/')) return undefined
            const resolved = await build.resolve(args.path, {
              kind: args.kind,
              resolveDir: args.resolveDir,
              pluginData: SKIP,
            })
            if (resolved.errors.length > 0) return undefined
            return { path: resolved.path, external: true }
          })
        },
      },
    ],
  })
  return outdir
}
