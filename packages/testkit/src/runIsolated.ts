import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bundleFromSources } from './bundleFromSources.js'

const repoDir = fileURLToPath(new URL('../../..', import.meta.url))

/** What a script run by {@link runIsolated} did. */
export interface IsolatedRun {
  /** The exit code, or `null` if a signal ended it. */
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** How {@link runIsolated} runs its script. */
export interface RunIsolatedOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>
  /** After this long the process is killed. @default 60_000 */
  timeoutMs?: number
  /** The package (`packages/<from>`) whose dependencies bare imports resolve from. @default 'core' */
  from?: string
}

let count = 0

/**
 * Runs `source` (TypeScript, importing `@sse/*` by name) in a plain `node` process of its own: no
 * test runner, so no `unhandledRejection` handler unless the script installs one. `@sse/*` resolve to
 * the packages' sources; other bare imports resolve as from `packages/<from>`. Resolves when the
 * process exits, or kills it after `timeoutMs`.
 */
export async function runIsolated(
  source: string,
  options: RunIsolatedOptions = {},
): Promise<IsolatedRun> {
  const workDir = `${repoDir}packages/${options.from ?? 'core'}/node_modules/.isolated`
  mkdirSync(workDir, { recursive: true })
  const name = `script-${process.pid}-${++count}`
  const entry = `${workDir}/${name}.ts`
  const outfile = `${workDir}/${name}.mjs`
  writeFileSync(entry, source)
  await bundleFromSources({ entryPoints: [entry], outfile })
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
