import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleFromSources, type Cleanups } from '@sse/testkit'
import { beforeAll } from 'vitest'
import type { RuntimeAppOptions } from './app.js'

/** The runtimes the Fetch adapter is tested on, each as its own process. */
export type Runtime = 'node' | 'bun' | 'deno'
/**
 * Whether this run tests only the Node it runs on: CI's runs on other Node versions set
 * `SSE_NODE_ONLY=1`, since Bun and Deno do not change with the Node that starts them.
 */
export const nodeOnly = process.env.SSE_NODE_ONLY === '1'
export const runtimes: readonly Runtime[] = nodeOnly ? ['node'] : ['node', 'bun', 'deno']

/** A runtime the app is tested on, and whether its streams get `node: c.env` (Node's own objects). */
export interface RuntimeTarget {
  readonly label: string
  readonly runtime: Runtime
  readonly nodeBindings: boolean
}

/**
 * Each runtime, and Node once more with `node: c.env`, where a stream writes to Node's response
 * instead of through the web `Response`.
 */
export const runtimeTargets: readonly RuntimeTarget[] = [
  ...runtimes.map((runtime) => ({ label: runtime, runtime, nodeBindings: false })),
  { label: "node, writing to Node's response (node: c.env)", runtime: 'node', nodeBindings: true },
]

/**
 * Bun and Deno, installed from npm as the package's dev dependencies: the binaries their packages'
 * postinstall put in place, run directly. Their `.bin` shims run them as a child of `sh` (Bun) or
 * of a Node wrapper (Deno), so killing the shim's process left the runtime running, and every test
 * that started one left a server behind.
 */
const installed: Record<Runtime, readonly [string, string] | undefined> = {
  node: undefined,
  bun: ['bun', 'bin/bun.exe'],
  deno: ['deno', 'deno'],
}

function binaryOf(runtime: Runtime): string {
  const where = installed[runtime]
  if (where === undefined) return process.execPath
  const [name, file] = where
  const path = join(dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)), file)
  if (!existsSync(path)) throw new Error(`${name} not found at ${path}: run pnpm install`)
  return path
}
const runArgs: Record<Runtime, readonly string[]> = {
  node: [],
  bun: ['run'],
  deno: ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', '--no-prompt'],
}

/** A running app: its origin, and its process. */
export interface RuntimeServer {
  readonly origin: string
  readonly child: ChildProcess
  /** Everything the process printed on stderr so far. */
  stderr(): string
}

/** The bundled entry points, from {@link bundleServers}: Node's, and the one Bun and Deno run. */
export interface ServerBundles {
  readonly node: string
  readonly web: string
}

/**
 * Bundles `serveNode.ts` and `serveWeb.ts` with `@sse/*` from their sources (no build needed) into
 * a temp directory. Removed by `cleanups`.
 */
export async function bundleServers(cleanups: Cleanups): Promise<ServerBundles> {
  const dir = await mkdtemp(join(tmpdir(), 'sse-fetch-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const entry = (name: string) => fileURLToPath(new URL(`${name}.ts`, import.meta.url))
  await bundleFromSources({ entryPoints: [entry('serveNode')], outdir: dir })
  // Deno cannot load a CommonJS dependency (ajv) from node_modules by path: one file for both.
  await bundleFromSources({ entryPoints: [entry('serveWeb')], outdir: dir, dependencies: 'bundle' })
  return { node: join(dir, 'serveNode.js'), web: join(dir, 'serveWeb.js') }
}

/**
 * Bundles the servers once for the test file (`beforeAll`), and removes them after it; the
 * returned function gives the bundles inside tests.
 */
export function useServerBundles(): () => ServerBundles {
  let bundles: ServerBundles | undefined
  const cleanups: Cleanups = []
  beforeAll(async () => {
    bundles = await bundleServers(cleanups)
    return async () => {
      for (const cleanup of cleanups.reverse()) await cleanup()
    }
  })
  return () => {
    if (bundles === undefined) throw new Error('the server bundles are made in beforeAll')
    return bundles
  }
}

/** Starts the bundled app under `runtime`, with `options`; killed by `cleanups`. */
export async function startRuntime(
  runtime: Runtime,
  bundles: ServerBundles,
  cleanups: Cleanups,
  options: RuntimeAppOptions = {},
  env: Record<string, string> = {},
): Promise<RuntimeServer> {
  const child = spawn(
    binaryOf(runtime),
    [...runArgs[runtime], runtime === 'node' ? bundles.node : bundles.web],
    {
      env: { ...process.env, SSE_OPTIONS: JSON.stringify(options), NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`${runtime} did not start: ${stderr}`)), 20_000)
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text
      const match = /listening (\d+)/.exec(out)
      if (match !== null) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${runtime} exited with ${code}: ${stderr}`))
    })
  })
  return { origin: `http://127.0.0.1:${port}`, child, stderr: () => stderr }
}
