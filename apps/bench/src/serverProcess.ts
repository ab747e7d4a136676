import { type ChildProcess, spawn } from 'node:child_process'
import type { ServerCommand, ServerConfig, ServerMessage } from './protocol.js'

const live = new Set<ChildProcess>()

/** Kills every child process still running (also called on exit and on signals). */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

process.on('exit', killAllChildren)

export interface SpawnOptions {
  /** Raise the soft fd limit of the child to this (through `sh -c 'ulimit -n …'`). */
  fdLimit?: number
  /** Write a V8 CPU profile of the child into this directory. */
  cpuProfileDir?: string
  /** The Node binary to run the server on; absent, this process's own. */
  node?: string
  /** Run the server on this Bun binary instead of Node (no `--expose-gc`, no CPU profile). */
  bun?: string
  startTimeout?: number
}

/**
 * Starts `args` under `node` (this process's own binary unless `options.node` names another),
 * with an IPC channel, optionally through `sh -c 'ulimit -n N; exec …'` so the child gets more
 * file descriptors.
 */
export function spawnNode(
  args: readonly string[],
  options: { fdLimit?: number | undefined; node?: string | undefined; stdio: 'pipe' | 'inherit' },
): ChildProcess {
  const stdio = ['ignore', options.stdio, options.stdio, 'ipc'] as const
  const node = options.node ?? process.execPath
  const child =
    options.fdLimit === undefined
      ? spawn(node, args, { stdio: [...stdio] })
      : spawn(
          '/bin/sh',
          ['-c', `ulimit -n ${options.fdLimit} 2>/dev/null; exec "$0" "$@"`, node, ...args],
          { stdio: [...stdio] },
        )
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** A contender server process and its IPC control channel. */
export class ServerProcess {
  readonly port: number
  /** The version of Node the server runs on (on Bun, the one Bun reports). */
  readonly node: string
  /** Bun's version, when the server runs on Bun. */
  readonly bun: string | undefined
  readonly #child: ChildProcess
  readonly #pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void }
  >()
  readonly #output: string[]
  #nextId = 0
  #exited = false

  private constructor(
    child: ChildProcess,
    ready: { port: number; node: string; bun: string | undefined },
    output: string[],
  ) {
    this.#child = child
    this.port = ready.port
    this.node = ready.node
    this.bun = ready.bun
    this.#output = output
    child.on('message', (message: ServerMessage) => {
      if ('ready' in message) return
      const pending = this.#pending.get(message.id)
      if (pending === undefined) return
      this.#pending.delete(message.id)
      if (message.ok) pending.resolve(message.value)
      else pending.reject(new Error(message.error))
    })
    child.once('exit', (code, signal) => {
      this.#exited = true
      const error = new Error(
        `contender server exited (${signal ?? code}) during a command:\n${this.#output.join('')}`,
      )
      for (const pending of this.#pending.values()) pending.reject(error)
      this.#pending.clear()
    })
  }

  static start(
    serverFile: string,
    config: ServerConfig,
    options: SpawnOptions = {},
  ): Promise<ServerProcess> {
    const execArgv = options.bun === undefined ? ['--expose-gc'] : []
    if (options.cpuProfileDir !== undefined && options.bun === undefined) {
      execArgv.push(
        '--cpu-prof',
        `--cpu-prof-dir=${options.cpuProfileDir}`,
        `--cpu-prof-name=${config.contender}-${Date.now()}.cpuprofile`,
      )
    }
    const child = spawnNode([...execArgv, serverFile, JSON.stringify(config)], {
      fdLimit: options.fdLimit,
      node: options.bun ?? options.node,
      stdio: 'pipe',
    })
    const output: string[] = []
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString())
      if (output.length > 50) output.shift()
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`${config.contender}: server did not start:\n${output.join('')}`))
      }, options.startTimeout ?? 20_000)
      child.on('message', (message: ServerMessage) => {
        if ('ready' in message) {
          clearTimeout(timer)
          resolve(new ServerProcess(child, message, output))
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${config.contender}: server exited (${code}):\n${output.join('')}`))
      })
    })
  }

  call<T>(command: ServerCommand, timeout = 120_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('contender server has exited'))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`contender server: "${command.op}" timed out after ${timeout} ms`))
      }, timeout)
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as T)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      this.#child.send({ id, command })
    })
  }

  /** Stops the server: a graceful exit first (so a CPU profile gets written), then SIGKILL. */
  async stop(grace = 3000): Promise<void> {
    if (this.#exited) return
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()))
    if (this.#child.connected) this.#child.disconnect()
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), grace)
    await exited
    clearTimeout(timer)
  }
}
