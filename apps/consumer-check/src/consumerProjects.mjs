import { execFile } from 'node:child_process'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import ts from 'typescript'
import { runCommand, tail } from './runCommand.mjs'

/**
 * The packages a consumer of the docs installs next to ours. A range that one of our packages
 * declares (dependency or peer) wins, so the projects get what the packages say they support.
 */
const thirdPartyDefaults = {
  fastify: '*',
  '@fastify/static': '*',
  express: '*',
  '@types/express': '*',
  hono: '*',
  '@hono/node-server': '*',
  '@types/node': '^20',
  // vitest 5 needs Node >= 22.12.
  vitest: '^4',
  eventsource: '*',
  ioredis: '*',
  // The same major.minor as the repository's compiler.
  typescript: `~${ts.versionMajorMinor}.0`,
}

/** The compiler options every ```ts block of the docs has to satisfy. */
export const consumerCompilerOptions = {
  strict: true,
  module: 'nodenext',
  moduleResolution: 'nodenext',
  target: 'es2022',
  skipLibCheck: false,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noEmit: true,
}

/**
 * @typedef {object} ConsumerProjects
 * @property {string} esm folder of the `"type": "module"` project
 * @property {string} cjs folder of the `"type": "commonjs"` project
 * @property {Record<string, string>} dependencies what both projects installed
 */

/**
 * Writes the two consumer projects into `workdir` and installs them from the npm registry: one
 * `npm install` in the ESM project, whose `node_modules` and lockfile are then copied into the
 * CommonJS project (same dependencies, so the same tree).
 * @param {string} workdir
 * @param {import('./packPackages.mjs').PackedPackage[]} packed
 * @param {(text: string) => void} note
 * @returns {Promise<ConsumerProjects>}
 */
export async function createConsumerProjects(workdir, packed, note) {
  const dependencies = await consumerDependencies(packed)
  const esm = join(workdir, 'esm')
  const cjs = join(workdir, 'cjs')
  await writeProject(esm, 'module', dependencies)
  await writeProject(cjs, 'commonjs', dependencies)
  note(`npm ${await npmVersion()}, installing ${Object.keys(dependencies).length} packages`)
  for (const [name, spec] of Object.entries(dependencies)) {
    if (!spec.startsWith('file:')) note(`${name}@${spec}`)
  }
  const result = await runCommand(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline'],
    {
      cwd: esm,
    },
  )
  if (result.code !== 0) {
    throw new Error(`npm install failed in ${esm}:\n${tail(result.stderr || result.stdout, 40)}`)
  }
  await cp(join(esm, 'node_modules'), join(cjs, 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
  })
  await cp(join(esm, 'package-lock.json'), join(cjs, 'package-lock.json'))
  return { esm, cjs, dependencies }
}

/**
 * The folders of projects an earlier run left in `workdir` (for `--reuse-install`).
 * @param {string} workdir
 * @returns {Promise<ConsumerProjects>}
 */
export async function existingConsumerProjects(workdir) {
  const esm = join(workdir, 'esm')
  const manifest = JSON.parse(await readFile(join(esm, 'package.json'), 'utf8'))
  return { esm, cjs: join(workdir, 'cjs'), dependencies: manifest.dependencies }
}

/**
 * @param {import('./packPackages.mjs').PackedPackage[]} packed
 * @returns {Promise<Record<string, string>>}
 */
async function consumerDependencies(packed) {
  /** @type {Record<string, string>} */
  const declared = {}
  for (const { dir } of packed) {
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const [name, range] of Object.entries(manifest[field] ?? {})) {
        if (typeof range === 'string' && !range.startsWith('workspace:')) declared[name] ??= range
      }
    }
  }
  /** @type {Record<string, string>} */
  const dependencies = {}
  for (const { name, tarball } of packed) dependencies[name] = `file:${tarball}`
  for (const [name, fallback] of Object.entries(thirdPartyDefaults)) {
    dependencies[name] = declared[name] ?? fallback
  }
  return dependencies
}

/**
 * @param {string} dir
 * @param {'module' | 'commonjs'} type
 * @param {Record<string, string>} dependencies
 */
async function writeProject(dir, type, dependencies) {
  await mkdir(dir, { recursive: true })
  const manifest = { name: `consumer-${type}`, private: true, type, dependencies }
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  const tsconfig = { compilerOptions: consumerCompilerOptions, include: [] }
  await writeFile(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)
}

/** @returns {Promise<string>} */
async function npmVersion() {
  const { stdout } = await promisify(execFile)('npm', ['--version'])
  return stdout.trim()
}
