import { SSEError } from '@sse/core'
import type { RedisClient } from './redisClient.js'

/** A Lua script run by its SHA1, with its source for when Redis does not have it. */
export interface PublishScript {
  readonly source: string
  readonly sha: string
}

/** A publish set aside, and who waits for its answer. */
interface Pending {
  readonly keys: readonly string[]
  readonly args: readonly string[]
  readonly resolve: (reply: unknown) => void
  readonly reject: (error: unknown) => void
}

/** What a `NOSCRIPT` answer sets aside until every publish sent before it has been answered. */
interface Recovery {
  /** Publishes answered `NOSCRIPT`, in call order, none of the publishes after them run (yet). */
  retries: Pending[]
  /** Publishes made meanwhile, in call order: sent after the re-sends. */
  readonly held: Pending[]
}

/** A publish to set aside, and the promise its caller gets. */
function pending(
  keys: readonly string[],
  args: readonly string[],
): { entry: Pending; promise: Promise<unknown> } {
  let resolve!: (reply: unknown) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { entry: { keys, args, resolve, reject }, promise }
}

function ignore(): void {}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

function notReordered(): SSEError {
  return new SSEError(
    'TRANSPORT_ERROR',
    "@sse/redis: publish failed: Redis had lost the publish script (SCRIPT FLUSH, or a server that changed under the connection) and a later publish of this instance ran first; this event was not published, so that the instance's events keep their call order. Publish it again if it still matters.",
  )
}

/**
 * Runs one instance's publish scripts so that the publishes that succeed get increasing ids in call
 * order, whatever happens to Redis' script cache.
 *
 * Publishes go down one connection back to back (`EVALSHA`, pipelined) and Redis runs them in that
 * order. `SCRIPT LOAD` goes just before the first publish on each connection, so a new, restarted
 * or promoted server has the script. A server can still lose it while publishes are in flight
 * (`SCRIPT FLUSH`): they answer `NOSCRIPT` without running, yet a later one runs if another
 * instance loads the script in between, and re-sending the first ones then would put them after it.
 * So after a `NOSCRIPT`:
 * - new publishes wait;
 * - once every publish sent before has been answered, those that answered `NOSCRIPT` are re-sent in
 *   call order with `EVAL` (which loads the script), then the waiting ones are sent;
 * - but one followed by a publish that ran, or whose fate is unknown (its connection dropped),
 *   rejects with `TRANSPORT_ERROR` instead: a publish fails rather than lands out of order.
 *
 * `EVAL` for every publish would need none of this, but costs its ~2 KB of source on every publish
 * and Redis hashes it each time (measured in README.md, "Publish order").
 */
export class OrderedPublisher {
  readonly #client: RedisClient
  readonly #script: PublishScript
  /** Publishes sent and not answered yet; Redis answers them in the order they were sent. */
  #inFlight = 0
  #recovery: Recovery | undefined
  /** The connection the script was last loaded on. */
  #loadedOn: object | undefined

  constructor(client: RedisClient, script: PublishScript) {
    this.#client = client
    this.#script = script
  }

  /** Runs the publish script; resolves to its reply, rejects with the command's error. */
  run(keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const recovery = this.#recovery
    if (recovery === undefined) return this.#send(keys, args, false)
    const { entry, promise } = pending(keys, args)
    recovery.held.push(entry)
    return promise
  }

  #send(keys: readonly string[], args: readonly string[], withSource: boolean): Promise<unknown> {
    const client = this.#client
    const { source, sha } = this.#script
    let reply: Promise<unknown>
    if (withSource) {
      reply = client.eval(source, keys.length, ...keys, ...args)
    } else {
      // A Cluster client has a connection per node: the first EVALSHA on each answers NOSCRIPT,
      // which loads the script in order like any other NOSCRIPT (below).
      const stream = 'stream' in client ? client.stream : undefined
      if (stream !== undefined && stream !== this.#loadedOn) {
        this.#loadedOn = stream
        // Its failure shows as NOSCRIPT on the publish after it.
        client.script('LOAD', source).catch(ignore)
      }
      reply = client.evalsha(sha, keys.length, ...keys, ...args)
    }
    this.#inFlight++
    return reply.then(
      (value) => {
        this.#answered()
        return value
      },
      (error: unknown) => this.#failed(keys, args, error),
    )
  }

  #answered(): void {
    this.#inFlight--
    // It ran: the publishes set aside before it can no longer come before it.
    if (this.#recovery !== undefined) this.#giveUp(this.#recovery)
    this.#resume()
  }

  /** A NOSCRIPT is set aside (the promise settles with its re-send); other errors are thrown on. */
  #failed(keys: readonly string[], args: readonly string[], error: unknown): Promise<unknown> {
    this.#inFlight--
    if (isNoScript(error)) {
      this.#loadedOn = undefined
      this.#recovery ??= { retries: [], held: [] }
      const { entry, promise } = pending(keys, args)
      this.#recovery.retries.push(entry)
      this.#resume()
      return promise
    }
    // A dropped connection leaves its fate unknown: it may have run, as above.
    if (this.#recovery !== undefined) this.#giveUp(this.#recovery)
    this.#resume()
    throw error
  }

  #giveUp(recovery: Recovery): void {
    for (const entry of recovery.retries) entry.reject(notReordered())
    recovery.retries = []
  }

  /** Once every publish sent before the recovery is answered: the re-sends, then what waited. */
  #resume(): void {
    const recovery = this.#recovery
    if (recovery === undefined || this.#inFlight > 0) return
    this.#recovery = undefined
    for (const { keys, args, resolve, reject } of recovery.retries) {
      this.#send(keys, args, true).then(resolve, reject)
    }
    for (const { keys, args, resolve, reject } of recovery.held) {
      this.#send(keys, args, false).then(resolve, reject)
    }
  }
}
