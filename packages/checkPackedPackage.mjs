// Checks the package in the current directory as it is published: the tarball `pnpm pack` makes,
// with `publishConfig` applied (`npm pack`, which `attw --pack` runs, would ignore it).
// 1. `publishConfig.exports` must be `exports` without the workspace-only `@sse/source` condition,
//    and the packed package.json must carry that map and no `@sse/source` anywhere.
// 2. publint --strict and attw check the tarball; this script's arguments are passed on to attw.
// Usage (a package's `check:package`): node ../checkPackedPackage.mjs --profile node16
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'

const SOURCE_CONDITION = '@sse/source'
const shell = process.platform === 'win32'

/** `exports` as consumers get it: every `@sse/source` condition removed, at any depth. */
function withoutSourceCondition(value) {
  if (Array.isArray(value)) return value.map(withoutSourceCondition)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([condition]) => condition !== SOURCE_CONDITION)
      .map(([condition, target]) => [condition, withoutSourceCondition(target)]),
  )
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8'))
const expected = withoutSourceCondition(manifest.exports)

function check(dir) {
  if (!isDeepStrictEqual(manifest.publishConfig?.exports, expected)) {
    throw new Error(
      `publishConfig.exports must equal exports without "${SOURCE_CONDITION}":\n` +
        JSON.stringify(expected, null, 2),
    )
  }
  const packed = execFileSync('pnpm', ['pack', '--pack-destination', dir, '--json'], {
    encoding: 'utf8',
    shell,
  })
  const tarball = JSON.parse(packed).filename
  const packedManifest = execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], {
    encoding: 'utf8',
  })
  if (packedManifest.includes(SOURCE_CONDITION)) {
    throw new Error(`the packed package.json still mentions "${SOURCE_CONDITION}"`)
  }
  if (!isDeepStrictEqual(JSON.parse(packedManifest).exports, expected)) {
    throw new Error('the packed exports differ from publishConfig.exports')
  }
  execFileSync('publint', ['run', '--strict', tarball], { stdio: 'inherit', shell })
  execFileSync('attw', [tarball, ...process.argv.slice(2)], { stdio: 'inherit', shell })
}

const dir = mkdtempSync(join(tmpdir(), 'sse-pack-'))
try {
  check(dir)
} catch (error) {
  console.error(`check:package ${manifest.name}: ${error instanceof Error ? error.message : error}`)
  process.exitCode = 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
