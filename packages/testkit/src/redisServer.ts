import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onCI } from './onCI.js'

// Imported by the bench's own sources (apps/bench/src/run.ts): nothing here may import vitest.

/** The `redis-server` binary: `REDIS_SERVER` if set, else the one on the PATH. */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server'

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

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

/** Starts the binary; it is killed with this process if nothing stopped it before. */
function spawnRedis(port: number, dir: string): ChildProcess {
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
async function untilAnswering(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) return false
    if (await ping(port)) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return false
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts a `redis-server` on a free loopback port and waits until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-redis-'))
  let port = 0
  let child: ChildProcess | undefined
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freePort()
    const candidate = spawnRedis(port, dir)
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
        const candidate = spawnRedis(port, dir)
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
