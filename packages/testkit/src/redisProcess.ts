import { type ChildProcess, spawn } from 'node:child_process'
import { pingRedis } from './redisCommands.js'

// Shared by the single-server and the cluster launchers; imports nothing from vitest (the bench
// uses them).

/** The `redis-server` binary: `REDIS_SERVER` if set, else the one on the PATH. */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server'

/**
 * Starts `redis-server` on 127.0.0.1:`port` in `dir`, without persistence, with `extraArgs` after
 * the defaults; it is killed with this process if nothing stopped it before.
 */
export function spawnRedisServer(
  port: number,
  dir: string,
  extraArgs: readonly string[] = [],
): ChildProcess {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--protected-mode',
      'no',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  child.stderr?.resume()
  const killWithUs = () => child.kill('SIGKILL')
  process.once('exit', killWithUs)
  child.once('exit', () => process.off('exit', killWithUs))
  return child
}

/** Waits (about 5 s at most) until the server answers PING; `false` if it exits or never does. */
export async function untilAnswering(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    if (await pingRedis(port)) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return false
}

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Kills `child` with SIGKILL (no goodbye to clients) and waits until it has exited. */
export async function killRedisServer(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL')
  await exited(child)
}
