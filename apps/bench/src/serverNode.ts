import { execFileSync } from 'node:child_process'

/** The Node binary the contender servers run on, and its version. */
export interface ServerNode {
  readonly path: string
  readonly version: string
}

/** This process's major Node version. */
export function ownMajor(): number {
  return Number(process.versions.node.split('.')[0])
}

/**
 * The Node binary of `major` for the contender servers (`--node=24`): this process's own when it
 * is that major, otherwise the one `npx -y -p node@<major> node` runs, as `.ci/run` does. It is
 * resolved once and the servers are spawned on it directly: through npx, the IPC channel would
 * reach npx rather than the server.
 */
export function serverNodeOf(major: number): ServerNode {
  if (!Number.isInteger(major) || major < 18) {
    throw new Error(`--node: expected a Node major version such as 24, got "${major}"`)
  }
  if (ownMajor() === major) return { path: process.execPath, version: process.version }
  // An orchestrator re-executed with an IPC channel must not hand it to npx.
  const { NODE_CHANNEL_FD, NODE_CHANNEL_SERIALIZATION_MODE, ...env } = process.env
  const printed = execFileSync(
    'npx',
    ['-y', '-p', `node@${major}`, 'node', '-p', 'process.version + " " + process.execPath'],
    { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
  ).trim()
  const space = printed.indexOf(' ')
  const version = printed.slice(0, space)
  const path = printed.slice(space + 1)
  if (space === -1 || !version.startsWith(`v${major}.`)) {
    throw new Error(`--node=${major}: npx -p node@${major} printed "${printed}"`)
  }
  return { path, version }
}
