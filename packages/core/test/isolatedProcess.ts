import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import { fileURLToPath } from 'node:url'

const repoDir = fileURLToPath(new URL('../../..', import.meta.url))
const SKIP = Symbol('resolving')

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>
}
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

/** esbuild, from the copy tsup (a root devDependency) ships with. */
function loadEsbuild(): Esbuild {
  const require = createRequire(import.meta.url)
  return createRequire(require.resolve('tsup'))('esbuild') as Esbuild
}

/** What a script run by {@link runIsolated} did. */
export interface IsolatedRun {
  /** The exit code, or `null` if a signal ended it. */
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

let count = 0

/**
 * Runs `source` (TypeScript, importing `@sse/*` by name) in a plain `node` process of its own: no
 * test runner, so no `unhandledRejection` handler unless the script installs one. `@sse/*` resolve to
 * the packages' sources; other bare imports resolve as from `packages/<from>` (default `core`).
 * Resolves when the process exits, or kills it after `timeoutMs`.
 */
export async function runIsolated(
  source: string,
  options: { env?: Record<string, string>; timeoutMs?: number; from?: string } = {},
): Promise<IsolatedRun> {
  const workDir = `${repoDir}packages/${options.from ?? 'core'}/node_modules/.isolated`
  mkdirSync(workDir, { recursive: true })
  const name = `script-${process.pid}-${++count}`
  const entry = `${workDir}/${name}.ts`
  const outfile = `${workDir}/${name}.mjs`
  writeFileSync(entry, source)
  await loadEsbuild().build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    conditions: ['@sse/source'],
    plugins: [
      {
        name: 'sse-sources',
        setup(build: PluginBuild) {
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
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [outfile], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
