import type { ChildProcess } from 'node:child_process'
import { spawnNode } from '../serverProcess.js'
import type { ChildReply, ReadyMessage } from './scaleProtocol.js'

/** How a child is started. */
export interface ScaleChildOptions {
  /** A name for errors, e.g. `server 2`. */
  name: string
  /** The child's soft fd limit (`ulimit -n`, at most the hard limit). */
  fdLimit: number
  /** Node flags, e.g. `--expose-gc`. */
  execArgv?: string[]
  startTimeout?: number
}

/**
 * One child process of the scale scenario (a server, a client process or the publisher) and its
 * IPC channel: requests go out with an id and come back as a {@link ChildReply}. Every child is
 * also in serverProcess.ts's set, so it is killed when this process exits.
 */
export class ScaleChild<TRequest> {
  readonly name: string
  readonly pid: number
  readonly ready: ReadyMessage
  readonly #child: ChildProcess
  readonly #pending = new Map<number, (reply: ChildReply) => void>()
  readonly #output: string[]
  #nextId = 0
  #exited = false

  private constructor(name: string, child: ChildProcess, ready: ReadyMessage, output: string[]) {
    this.name = name
    this.#child = child
    this.pid = child.pid ?? -1
    this.ready = ready
    this.#output = output
    child.on('message', (message: ChildReply | ReadyMessage) => {
      if ('ready' in message) return
      const settle = this.#pending.get(message.id)
      this.#pending.delete(message.id)
      settle?.(message)
    })
    child.once('exit', (code, signal) => {
      this.#exited = true
      const error = `${name} exited (${signal ?? code}):\n${this.#output.join('')}`
      for (const settle of this.#pending.values()) settle({ id: -1, ok: false, error })
      this.#pending.clear()
    })
  }

  /** Starts `file` with `setup` as its argument and resolves once it says it is ready. */
  static start<TRequest>(
    file: string,
    setup: unknown,
    options: ScaleChildOptions,
  ): Promise<ScaleChild<TRequest>> {
    const child = spawnNode([...(options.execArgv ?? []), file, JSON.stringify(setup)], {
      fdLimit: options.fdLimit,
      stdio: 'pipe',
    })
    const output: string[] = []
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString())
      if (output.length > 30) output.shift()
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`${options.name} did not start:\n${output.join('')}`))
      }, options.startTimeout ?? 30_000)
      const onExit = (code: number | null): void => {
        clearTimeout(timer)
        reject(new Error(`${options.name} exited (${code}) while starting:\n${output.join('')}`))
      }
      child.once('exit', onExit)
      child.on('message', (message: ChildReply | ReadyMessage) => {
        if (!('ready' in message)) return
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve(new ScaleChild<TRequest>(options.name, child, message, output))
      })
    })
  }

  /** Sends `request`; rejects on the child's error, its exit, or after `timeout` ms. */
  call<TValue>(request: TRequest, timeout = 120_000): Promise<TValue> {
    if (this.#exited) return Promise.reject(new Error(`${this.name} has exited`))
    const id = this.#nextId++
    return new Promise<TValue>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: request timed out after ${timeout} ms`))
      }, timeout)
      this.#pending.set(id, (reply) => {
        clearTimeout(timer)
        if (reply.ok) resolve(reply.value as TValue)
        else reject(new Error(`${this.name}: ${reply.error}`))
      })
      this.#child.send({ id, request })
    })
  }

  /** Kills the child (SIGKILL: nothing to flush) and waits until it has exited. */
  async stop(): Promise<void> {
    if (this.#exited) return
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()))
    this.#child.kill('SIGKILL')
    await exited
  }
}
