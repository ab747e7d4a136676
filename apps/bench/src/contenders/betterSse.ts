import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createChannel, createSession } from 'better-sse'
import type { ContenderServer } from './contender.js'
import { listen } from './listen.js'

/** better-sse on plain `node:http`: `createSession` per request, `channel.broadcast()` to publish. */
export async function startBetterSse(): Promise<ContenderServer> {
  const channel = createChannel()
  const server = createServer(async (req, res) => {
    const session = await createSession(req, res)
    channel.register(session)
  })
  await listen(server)
  return {
    port: (server.address() as AddressInfo).port,
    publish(payload) {
      channel.broadcast(payload)
    },
    subscribers: () => channel.sessionCount,
    stats: () => undefined,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
