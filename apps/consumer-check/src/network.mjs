import { connect, createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

/**
 * A TCP port free on 127.0.0.1 right now (the OS picks it; it is released before returning).
 * @returns {Promise<number>}
 */
export function freePort() {
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

/**
 * Waits until something accepts connections on 127.0.0.1:`port`, trying every 100 ms.
 * @param {number} port
 * @param {{ attempts: number, stop: () => string | undefined }} options `stop` returns a reason to
 *   give up early (the server process ended)
 * @returns {Promise<void>}
 */
export async function waitForPort(port, { attempts, stop }) {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const reason = stop()
    if (reason) throw new Error(reason)
    if (await canConnect(port)) return
    await delay(100)
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} after ${attempts} attempts`)
}

/**
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
