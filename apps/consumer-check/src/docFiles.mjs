import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'

/** Where the docs live: every ```ts block in these files must type-check and quick starts must run. */
export const defaultDocGlobs = ['README.md', 'docs/*.md', 'packages/*/README.md']

/**
 * Expands glob patterns relative to `root`. A `*` matches any run of characters inside one path
 * segment (no `**`, no braces): enough for the doc locations, with no dependency.
 * @param {string} root
 * @param {string[]} patterns
 * @returns {Promise<string[]>} absolute paths, sorted, without duplicates
 */
export async function expandGlobs(root, patterns) {
  const found = new Set()
  for (const pattern of patterns) {
    const segments = pattern.split('/').filter((segment) => segment !== '' && segment !== '.')
    for (const path of await matchSegments(root, segments)) found.add(path)
  }
  return [...found].sort((a, b) => relative(root, a).localeCompare(relative(root, b)))
}

/**
 * @param {string} dir
 * @param {string[]} segments
 * @returns {Promise<string[]>}
 */
async function matchSegments(dir, segments) {
  const [segment, ...rest] = segments
  if (segment === undefined) return [dir]
  if (segment === '..') return matchSegments(join(dir, '..'), rest)
  /** @type {import('node:fs').Dirent[]} */
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return []
  }
  const pattern = segmentPattern(segment)
  const matches = entries.filter(
    (entry) =>
      pattern.test(entry.name) &&
      entry.name !== 'node_modules' &&
      (rest.length === 0 ? entry.isFile() : entry.isDirectory()),
  )
  const nested = await Promise.all(
    matches.map((entry) => matchSegments(join(dir, entry.name), rest)),
  )
  return nested.flat()
}

/**
 * @param {string} segment
 * @returns {RegExp}
 */
function segmentPattern(segment) {
  const escaped = segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')
  return new RegExp(`^${escaped}$`)
}
