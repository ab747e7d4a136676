import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCommand, tail } from './runCommand.mjs'

/** The folders under packages/ whose packages are published, in dependency order. */
export const publishedPackageDirs = ['core', 'fastify', 'express', 'fetch', 'redis', 'testing']

/**
 * @typedef {object} PackedPackage
 * @property {string} name package name, for example `@sse/core`
 * @property {string} dir the package's folder in the repository
 * @property {string} tarball absolute path of the packed `.tgz`
 */

/**
 * Packs every published package with `pnpm pack`, which applies `publishConfig` and turns
 * `workspace:` ranges into versions, exactly as `pnpm publish` would.
 * @param {string} repoRoot
 * @param {string} destination folder for the tarballs
 * @returns {Promise<PackedPackage[]>}
 */
export async function packPackages(repoRoot, destination) {
  return Promise.all(
    publishedPackageDirs.map(async (dirName) => {
      const dir = join(repoRoot, 'packages', dirName)
      const result = await runCommand(
        'pnpm',
        ['pack', '--json', '--pack-destination', destination],
        { cwd: dir },
      )
      if (result.code !== 0) {
        throw new Error(`pnpm pack failed in ${dir}:\n${tail(result.stderr || result.stdout)}`)
      }
      const { name } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
      return { name, dir, tarball: parsePackOutput(result.stdout, dir) }
    }),
  )
}

/**
 * @param {string} stdout the output of `pnpm pack --json`
 * @param {string} dir for the error message
 * @returns {string}
 */
function parsePackOutput(stdout, dir) {
  const start = stdout.indexOf('{')
  const parsed = start === -1 ? undefined : JSON.parse(stdout.slice(start))
  if (typeof parsed?.filename !== 'string') {
    throw new Error(`pnpm pack in ${dir} printed no tarball name:\n${tail(stdout)}`)
  }
  return parsed.filename
}
