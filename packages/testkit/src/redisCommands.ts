import { createConnection } from 'node:net'

/** A reply of Redis's protocol, as {@link redisCommands} returns it: integers and nil included. */
export type RedisReply = string | number | null

/** An error reply (`-ERR …`) from Redis, or a connection that failed or timed out. */
export class RedisCommandError extends Error {
  override readonly name = 'RedisCommandError'
}

/** Parses one reply at `at` of `text`; `undefined` while it is incomplete. */
function parseReply(
  text: string,
  at: number,
): { reply: RedisReply | Error; end: number } | undefined {
  const lineEnd = text.indexOf('\r\n', at)
  if (lineEnd < 0) return undefined
  const line = text.slice(at + 1, lineEnd)
  switch (text[at]) {
    case '+':
      return { reply: line, end: lineEnd + 2 }
    case '-':
      return { reply: new RedisCommandError(line), end: lineEnd + 2 }
    case ':':
      return { reply: Number(line), end: lineEnd + 2 }
    case '$': {
      const length = Number(line)
      if (length < 0) return { reply: null, end: lineEnd + 2 }
      // Lengths count bytes; `text` is latin1, one character per byte.
      const end = lineEnd + 2 + length + 2
      return end <= text.length ? { reply: text.slice(lineEnd + 2, end - 2), end } : undefined
    }
    default:
      return {
        reply: new RedisCommandError(`unsupported reply type "${text[at]}"`),
        end: text.length,
      }
  }
}

/**
 * Sends `commands` to the Redis at 127.0.0.1:`port` on one fresh connection, pipelined, and
 * resolves to their replies in order. Rejects with a {@link RedisCommandError} on an error reply, a
 * refused connection, or no full answer within `timeoutMs`. Enough of a client for a launcher to
 * ask its own servers (`CLUSTER INFO`, `INFO replication`) without depending on ioredis.
 */
export function redisCommands(
  port: number,
  commands: ReadonlyArray<readonly string[]>,
  timeoutMs = 1000,
): Promise<RedisReply[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    const replies: RedisReply[] = []
    let received = ''
    let at = 0
    const fail = (error: Error) => {
      socket.destroy()
      reject(error instanceof RedisCommandError ? error : new RedisCommandError(error.message))
    }
    socket.setTimeout(timeoutMs, () =>
      fail(new RedisCommandError(`no answer within ${timeoutMs} ms`)),
    )
    socket.on('error', fail)
    socket.on('close', () => fail(new RedisCommandError('connection closed before every reply')))
    socket.on('connect', () => {
      const encode = (args: readonly string[]) =>
        `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`
      socket.write(commands.map(encode).join(''))
    })
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      for (let parsed = parseReply(received, at); parsed; parsed = parseReply(received, at)) {
        at = parsed.end
        if (parsed.reply instanceof Error) return fail(parsed.reply)
        replies.push(parsed.reply)
        if (replies.length === commands.length) {
          socket.destroy()
          return resolve(replies)
        }
      }
    })
  })
}

/** Whether the Redis at `port` answers PING with PONG. */
export function pingRedis(port: number): Promise<boolean> {
  return redisCommands(port, [['PING']]).then(
    ([reply]) => reply === 'PONG',
    () => false,
  )
}
