import { createServer, type Server } from 'node:net'

/** What a Redis Cluster node's cluster bus listens on: its client port plus this. */
export const BUS_PORT_OFFSET = 10_000

/**
 * Client ports come from here: below Linux's ephemeral range (32768 up) with their bus ports too,
 * so an outgoing connection of any process never holds one, and never above 55535 (bus ≤ 65535).
 */
const LOWEST = 10_000
const HIGHEST = 22_767

/** Listens on 127.0.0.1:`port`; `undefined` if it is taken. */
function hold(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(undefined))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

function release(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  ).then(() => {})
}

/** Holds `port` and its bus port, or neither. */
async function holdPair(port: number): Promise<Server[] | undefined> {
  const client = await hold(port)
  if (client === undefined) return undefined
  const bus = await hold(port + BUS_PORT_OFFSET)
  if (bus !== undefined) return [client, bus]
  await release([client])
  return undefined
}

/**
 * `count` client ports whose ports and bus ports (port + 10000) were all free a moment ago: from
 * `basePort` on, consecutive, if given (`undefined` if one of them is taken), else random ones
 * from 10000–22767 (`undefined` after many tries). A server that loses a race for one of them
 * exits at once, for its launcher to try another.
 */
export async function reservePortPairs(
  count: number,
  basePort?: number,
): Promise<number[] | undefined> {
  const held: Server[] = []
  const ports: number[] = []
  const taken = (port: number) =>
    ports.some((other) => Math.abs(other - port) % BUS_PORT_OFFSET === 0)
  try {
    for (let tries = 0; ports.length < count && tries < count * 50; tries++) {
      const port =
        basePort === undefined
          ? LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1))
          : basePort + ports.length
      const pair = taken(port) ? undefined : await holdPair(port)
      if (pair !== undefined) {
        held.push(...pair)
        ports.push(port)
      } else if (basePort !== undefined) return undefined
    }
    return ports.length === count ? ports : undefined
  } finally {
    await release(held)
  }
}
