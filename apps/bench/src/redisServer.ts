import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { sleep } from './clock.js'

export const REDIS_SERVER = '/usr/bin/redis-server'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.setTimeout(500)
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
    socket.on('error', () => resolve(false))
    socket.on('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/** A throwaway `redis-server` on loopback: no persistence, killed by {@link stop}. */
export class RedisServer {
  readonly url: string
  readonly #child: ChildProcess

  private constructor(child: ChildProcess, port: number) {
    this.#child = child
    this.url = `redis://127.0.0.1:${port}`
  }

  static available(): boolean {
    return existsSync(REDIS_SERVER)
  }

  static async start(): Promise<RedisServer> {
    const port = await freePort()
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    const kill = (): void => {
      child.kill('SIGKILL')
    }
    process.once('exit', kill)
    child.once('exit', () => process.off('exit', kill))
    for (let i = 0; i < 100; i++) {
      if (await ping(port)) return new RedisServer(child, port)
      if (child.exitCode !== null) break
      await sleep(50)
    }
    child.kill('SIGKILL')
    throw new Error(`redis-server did not answer on port ${port}`)
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.kill('SIGKILL')
    await exited
  }
}
