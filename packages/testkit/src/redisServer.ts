import { type ChildProcess, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onCI } from './onCI.js'
import { exited, REDIS_SERVER, spawnRedisServer, untilAnswering } from './redisProcess.js'

// Imported by the bench's own sources (apps/bench/src/run.ts): nothing here may import vitest.

export { REDIS_SERVER }

let installed: boolean | undefined

/** Whether the {@link REDIS_SERVER} binary runs here (asked once). */
export function redisServerInstalled(): boolean {
  installed ??= spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).status === 0
  return installed
}

/**
 * Whether suites that need Redis can run: for `describe.runIf(redisAvailable('@sse/redis tests'))`.
 * Without the binary, on CI it throws, so the run fails instead of skipping; elsewhere it warns
 * and returns `false`.
 */
export function redisAvailable(who = 'these tests'): boolean {
  if (redisServerInstalled()) return true
  const message = `${who} need a redis-server binary (tried "${REDIS_SERVER}"): install it (apt-get install -y redis-server) or set REDIS_SERVER`
  if (onCI()) throw new Error(message)
  console.warn(`${message}. Skipping them.`)
  return false
}

/** A throwaway `redis-server` on 127.0.0.1, without persistence, in its own temp dir. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL: no goodbye to clients) and waits for it to exit. */
  kill(): Promise<void>
  /** Starts it again on the same port, empty (no persistence), and waits until it answers PING. */
  restart(): Promise<void>
  /** Kills it and removes its directory. */
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Starts a `redis-server` on a free loopback port and waits until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-redis-'))
  let port = 0
  let child: ChildProcess | undefined
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freePort()
    const candidate = spawnRedisServer(port, dir)
    if (await untilAnswering(port, candidate)) child = candidate
    else {
      candidate.kill('SIGKILL')
      await exited(candidate)
    }
  }
  if (child === undefined) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`could not start ${REDIS_SERVER} on a free port`)
  }
  let current: ChildProcess = child
  const kill = async () => {
    current.kill('SIGKILL')
    await exited(current)
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill()
      // The port may linger in the kernel for a moment after the kill: try again on it.
      for (let attempt = 0; attempt < 20; attempt++) {
        const candidate = spawnRedisServer(port, dir)
        if (await untilAnswering(port, candidate)) {
          current = candidate
          return
        }
        candidate.kill('SIGKILL')
        await exited(candidate)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error(`could not restart ${REDIS_SERVER} on port ${port}`)
    },
    async stop() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
