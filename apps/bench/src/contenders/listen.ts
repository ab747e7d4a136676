import type { Server } from 'node:http'

/**
 * Listens on a free port of 127.0.0.1; `backlog` is the accept queue's length (Node's default,
 * 511, unless given; the kernel caps it at `net.core.somaxconn`).
 */
export function listen(server: Server, backlog?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', backlog, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
