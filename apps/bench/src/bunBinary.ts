import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The Bun binary the Bun contenders run on, and its version. */
export interface BunBinary {
  readonly path: string
  readonly version: string
}

/**
 * The Bun of `--bun=<path>`, or the one the `bun` npm package (a dependency of the bench) installed:
 * its `bin/bun.exe`, run directly rather than through the `.bin` shim, which sets `NODE_PATH` and
 * would hand the IPC channel to a shell.
 */
export function bunBinaryOf(path: string | undefined): BunBinary {
  const binary =
    path ??
    join(dirname(createRequire(import.meta.url).resolve('bun/package.json')), 'bin', 'bun.exe')
  if (!existsSync(binary)) {
    throw new Error(
      `Bun not found at ${binary}: run pnpm install (the bun package's postinstall), or give --bun=<path>`,
    )
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim()
  return { path: binary, version }
}
