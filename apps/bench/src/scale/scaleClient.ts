/**
 * A client process of the scale scenario: `node scaleClient.js '<ClientSetup>'`. It opens its
 * share of the connections on raw sockets from its own loopback source address, spread over the
 * server ports, and counts every broadcast each connection receives and when.
 */
import { EVENTS_PATH } from '../contenders/contender.js'
import { LatencyHistogram } from '../latencyHistogram.js'
import { type ConnectionListener, SSEClientConnection } from '../sseClientConnection.js'
import { childSetup, serveRequests } from './childEndpoint.js'
import type {
  ClientReport,
  ClientRequest,
  ClientSetup,
  ConnectOutcome,
  SeqOutcome,
} from './scaleProtocol.js'

const setup = childSetup<ClientSetup>()
const histogram = new LatencyHistogram()
const connections: SSEClientConnection[] = []
/** Per broadcast: connections that received it, and when the last of them did (µs). */
const receivedBySeq: number[] = []
const lastAtBySeq: number[] = []

/** The pending `awaitSeq`: connections still open that have not received `seq`. */
let waiter: { seq: number; remaining: number; done: () => void } | undefined

function settle(): void {
  if (waiter === undefined || waiter.remaining > 0) return
  const { done } = waiter
  waiter = undefined
  done()
}

const listener: ConnectionListener = {
  opened() {},
  event(connection, previousSeq) {
    const seq = connection.lastSeq
    receivedBySeq[seq] = (receivedBySeq[seq] ?? 0) + 1
    lastAtBySeq[seq] = Math.max(lastAtBySeq[seq] ?? 0, connection.lastReceivedAt)
    if (waiter !== undefined && previousSeq < waiter.seq && seq >= waiter.seq) {
      waiter.remaining--
      settle()
    }
  },
  closed(connection) {
    if (waiter !== undefined && connection.lastSeq < waiter.seq) {
      waiter.remaining--
      settle()
    }
  },
}

/** The first port of the range each source address binds its connections to. */
const FIRST_LOCAL_PORT = 32_768
/** Attempts per connection whose chosen local port turns out taken (bound by someone else). */
const PORT_ATTEMPTS = 20

/**
 * The next local port of each source address: every connection binds a port of its own choice,
 * so the kernel never searches the ephemeral range for a free one (that search, repeated for each
 * of ~16,000 connections per process, cost more CPU than the servers' work).
 */
const nextPort = setup.localAddresses.map(() => FIRST_LOCAL_PORT)

function connectAll(): Promise<ConnectOutcome> {
  const { ports, first, localAddresses, count, concurrency } = setup
  const outcome: ConnectOutcome = { opened: 0, failed: 0, statuses: {}, elapsedMs: 0 }
  const started = performance.now()
  let next = 0
  let settled = 0
  return new Promise((resolve) => {
    const settle = (status: number): void => {
      outcome.statuses[status] = (outcome.statuses[status] ?? 0) + 1
      if (status === 200) outcome.opened++
      else outcome.failed++
      if (++settled === count) {
        outcome.elapsedMs = performance.now() - started
        resolve(outcome)
      } else openNext()
    }
    const open = (index: number, attempt: number): void => {
      const address = index % localAddresses.length
      let counted = false
      // Kept in `connections` once its response head (or its failure) is in.
      new SSEClientConnection({
        port: ports[(first + index) % ports.length]!,
        path: EVENTS_PATH,
        localAddress: localAddresses[address]!,
        localPort: nextPort[address]!++,
        histogram,
        listener: {
          ...listener,
          opened(opened, status) {
            if (counted) return
            counted = true
            if (status === 0 && opened.errorCode === 'EADDRINUSE' && attempt < PORT_ATTEMPTS) {
              open(index, attempt + 1)
            } else {
              connections.push(opened)
              settle(status)
            }
          },
        },
      })
    }
    const openNext = (): void => {
      if (next < count) open(next++, 1)
    }
    if (count === 0) resolve(outcome)
    for (let i = 0; i < Math.min(concurrency, count); i++) openNext()
  })
}

function awaitSeq(seq: number, timeout: number): Promise<SeqOutcome> {
  let remaining = 0
  for (const connection of connections) {
    if (!connection.closed && connection.lastSeq < seq) remaining++
  }
  const outcome = (): SeqOutcome => ({
    received: receivedBySeq[seq] ?? 0,
    lastAt: lastAtBySeq[seq] ?? 0,
  })
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiter = undefined
      resolve(outcome())
    }, timeout)
    waiter = {
      seq,
      remaining,
      done: () => {
        clearTimeout(timer)
        resolve(outcome())
      },
    }
    settle()
  })
}

function report(): ClientReport {
  const result: ClientReport = {
    connections: connections.length,
    open: 0,
    received: 0,
    gaps: 0,
    reorders: 0,
    histogram: [],
  }
  for (const connection of connections) {
    if (!connection.closed) result.open++
    result.received += connection.received
    result.gaps += connection.gaps
    result.reorders += connection.reorders
  }
  for (const [bucket, count] of histogram.counts.entries()) {
    if (count !== 0) result.histogram.push([bucket, count])
  }
  return result
}

serveRequests<ClientRequest>((request) => {
  switch (request.op) {
    case 'connect':
      return connectAll()
    case 'awaitSeq':
      return awaitSeq(request.seq, request.timeout)
    case 'report':
      return report()
  }
})
