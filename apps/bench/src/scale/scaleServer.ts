/**
 * A server process of the scale scenario: `node --expose-gc scaleServer.js '<ServerSetup>'`.
 * The plain loop or ours on 127.0.0.1, on a port of its own; it answers memory, CPU and
 * subscriber counts over IPC.
 */
import { childSetup, serveRequests } from './childEndpoint.js'
import { startOurServer } from './ourServer.js'
import { startPlainLoopServer } from './plainLoopServer.js'
import type { MemoryReading, ServerRequest, ServerSetup } from './scaleProtocol.js'

const setup = childSetup<ServerSetup>()
const server =
  setup.mode === 'ours' ? await startOurServer(setup) : await startPlainLoopServer(setup)

async function memory(): Promise<MemoryReading> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const { rss, heapUsed } = process.memoryUsage()
  return { rss, heapUsed }
}

serveRequests<ServerRequest>(
  (request) => {
    switch (request.op) {
      case 'memory':
        return memory()
      case 'cpu': {
        const { user, system } = process.cpuUsage()
        return user + system
      }
      case 'subscribers':
        return server.subscribers()
    }
  },
  { port: server.port },
)
