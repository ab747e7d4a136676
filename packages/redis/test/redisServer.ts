import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The `redis-server` binary: `REDIS_SERVER` if set, else the one on the PATH. */
const BINARY = process.env.REDIS_SERVER ?? 'redis-server'

/**
 * Whether a `redis-server` binary can run here. Under `CI=true` a missing binary throws, so the run
 * fails instead of skipping; elsewhere the Redis suites are skipped with a message.
 */
export const redisAvailable: boolean = (() => {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' })
  if (probe.status === 0) return true
  const message = `@sse/redis tests need a redis-server binary (tried "${BINARY}"): install it (apt-get install -y redis-server) or set REDIS_SERVER`
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message)
  console.warn(`${message}. Skipping the Redis tests.`)
  return false
})()

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

function spawnRedis(port: number, dir: string): ChildProcess {
  const child = spawn(
    BINARY,
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
  return child
}

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
  if (child === undefined) throw new Error(`could not start ${BINARY} on a free port`)
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
      throw new Error(`could not restart ${BINARY} on port ${port}`)
    },
    async stop() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
