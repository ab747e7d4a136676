import { createRequire, isBuiltin } from 'node:module'

/** The slice of esbuild's plugin API this helper uses. */
interface PluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (args: {
      path: string
      kind: string
      resolveDir: string
      pluginData: unknown
    }) => Promise<{ path: string; external?: boolean } | undefined>,
  ): void
  resolve(
    path: string,
    options: { kind: string; resolveDir: string; pluginData: unknown },
  ): Promise<{ path: string; errors: unknown[] }>
}

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>
}

/**
 * What to bundle, and where to: esbuild's own options of those names, and `dependencies: 'bundle'`
 * to bundle every other package too (for runtimes that cannot load them from node_modules by path).
 */
export type BundleOptions = {
  entryPoints: string[]
  splitting?: boolean
  dependencies?: 'external' | 'bundle'
} & ({ outfile: string } | { outdir: string })

/** esbuild, from the copy tsup (a root devDependency) ships with. */
function loadEsbuild(): Esbuild {
  const require = createRequire(import.meta.url)
  return createRequire(require.resolve('tsup'))('esbuild') as Esbuild
}

const RESOLVING = Symbol('resolving')

/**
 * Resolves every other bare import where the importing file would, and leaves it external, by its
 * absolute path (a package's own dependencies are not visible from where the bundle is written).
 */
const externalByPath = {
  name: 'sse-sources',
  setup(build: PluginBuild) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === RESOLVING || isBuiltin(args.path)) return undefined
      // Our own packages are bundled from their sources (the `@sse/source` export condition).
      if (args.path.startsWith('@sse/')) return undefined
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: RESOLVING,
      })
      if (resolved.errors.length > 0) return undefined
      return { path: resolved.path, external: true }
    })
  },
}

/**
 * Bundles TypeScript entry points into ESM for Node 20 with `@sse/*` taken from the packages'
 * sources, so that no `pnpm build` is needed first. Every other package stays external, unless
 * `dependencies` is `'bundle'`.
 */
export async function bundleFromSources({
  dependencies = 'external',
  ...options
}: BundleOptions): Promise<void> {
  await loadEsbuild().build({
    ...options,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    conditions: ['@sse/source'],
    plugins: dependencies === 'external' ? [externalByPath] : [],
    // Bundled CommonJS packages require Node's modules (ioredis needs `events`): give them a require.
    ...(dependencies === 'bundle' && {
      banner: {
        js: "import { createRequire as __sseRequire } from 'node:module'; const require = __sseRequire(import.meta.url);",
      },
    }),
  })
}
