import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * @typedef {object} EntryPoint
 * @property {string} packageName for example `@sse/core`
 * @property {string} subpath the key in `exports`, for example `./kit`
 * @property {string} specifier what a consumer imports, for example `@sse/core/kit`
 * @property {'module' | 'asset'} kind `asset` for files served to browsers (only checked to exist)
 * @property {string[]} files for an asset, the files its `exports` entry names
 */

/**
 * Lists the entry points of an installed (packed) package from its `exports`. `./package.json` is
 * skipped; `./browser/*` entries are browser assets.
 * @param {string} projectDir a consumer project the package is installed in
 * @param {string} packageName
 * @returns {Promise<EntryPoint[]>}
 */
export async function entryPointsOf(projectDir, packageName) {
  const manifestPath = join(projectDir, 'node_modules', packageName, 'package.json')
  const { exports } = JSON.parse(await readFile(manifestPath, 'utf8'))
  if (typeof exports !== 'object' || exports === null) {
    throw new Error(`${packageName}: the packed package.json has no "exports" map`)
  }
  return Object.entries(exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => ({
      packageName,
      subpath,
      specifier: subpath === '.' ? packageName : `${packageName}/${subpath.slice(2)}`,
      kind: subpath.startsWith('./browser/') ? 'asset' : 'module',
      files: targetFiles(target),
    }))
}

/**
 * Every file path an `exports` target names, through nested conditions.
 * @param {unknown} target
 * @returns {string[]}
 */
function targetFiles(target) {
  if (typeof target === 'string') return [target]
  if (typeof target !== 'object' || target === null) return []
  return Object.values(target).flatMap(targetFiles)
}
