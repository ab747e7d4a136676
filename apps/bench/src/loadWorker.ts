/**
 * A load-generator thread: opens SSE connections over raw sockets and counts what arrives.
 * The orchestrator drives it with {@link LoadCommand}s.
 */
import { parentPort } from 'node:worker_threads'
import { LatencyHistogram } from './latencyHistogram.js'
import type { ConnectResult, LoadCommand, LoadReport, StalledState } from './loadProtocol.js'
import { type ConnectionListener, SSEClientConnection } from './sseClientConnection.js'

const port = parentPort
if (port === null) throw new Error('loadWorker.js runs as a worker thread')

const histogram = new LatencyHistogram()
let connections: SSEClientConnection[] = []
let closedCount = 0
let cutCount = 0

/** The pending `expect`: how many healthy connections have not reached it yet. */
let target:
  | { kind: 'events' | 'seq'; value: number; remaining: number; done: () => void }
  | undefined

function healthy(connection: SSEClientConnection): boolean {
  return !connection.closed && !connection.paused
}

function settleTarget(): void {
  if (target === undefined || target.remaining > 0) return
  const done = target.done
  target = undefined
  done()
}

function reached(connection: SSEClientConnection, kind: 'events' | 'seq', value: number): boolean {
  return kind === 'events' ? connection.received >= value : connection.lastSeq >= value
}

function countRemaining(kind: 'events' | 'seq', value: number): number {
  let remaining = 0
  for (const connection of connections) {
    if (healthy(connection) && !reached(connection, kind, value)) remaining++
  }
  return remaining
}

const listener: ConnectionListener = {
  opened() {},
  event(connection, previousSeq) {
    if (target === undefined || connection.paused) return
    const crossed =
      target.kind === 'events'
        ? connection.received === target.value
        : connection.lastSeq >= target.value && previousSeq < target.value
    if (crossed) {
      target.remaining--
      settleTarget()
    }
  },
  closed(connection) {
    closedCount++
    if (connection.cutWhileHealthy) cutCount++
    if (
      target !== undefined &&
      !connection.paused &&
      !reached(connection, target.kind, target.value)
    ) {
      target.remaining--
      settleTarget()
    }
  },
}

function open(command: Extract<LoadCommand, { op: 'connect' }>): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const result: ConnectResult = { opened: 0, failed: 0, statuses: {} }
    let started = 0
    let settled = 0
    const next = (): void => {
      if (started >= command.count) return
      const index = started++
      const headers = { ...command.headers }
      const lastEventId = command.lastEventIds?.[index]
      if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId
      let done = false
      const connection = new SSEClientConnection({
        port: command.port,
        path: command.path,
        headers,
        trackIds: command.trackIds ?? false,
        histogram,
        listener: {
          opened(c, status) {
            listener.opened(c, status)
            if (done) return
            done = true
            result.statuses[status] = (result.statuses[status] ?? 0) + 1
            if (status === 200) result.opened++
            else result.failed++
            settled++
            if (settled === command.count) resolve(result)
            else next()
          },
          event: listener.event,
          closed: listener.closed,
        },
      })
      connections.push(connection)
    }
    if (command.count === 0) resolve(result)
    for (let i = 0; i < Math.min(command.concurrency, command.count); i++) next()
  })
}

async function run(command: LoadCommand): Promise<unknown> {
  switch (command.op) {
    case 'connect':
      return open(command)
    case 'expect':
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          target = undefined
          resolve(false)
        }, command.timeout)
        target = {
          kind: command.kind,
          value: command.value,
          remaining: countRemaining(command.kind, command.value),
          done: () => {
            clearTimeout(timer)
            resolve(true)
          },
        }
        settleTarget()
      })
    case 'reset':
      histogram.reset()
      closedCount = 0
      cutCount = 0
      for (const connection of connections) connection.resetCounts()
      return null
    case 'pause': {
      let left = command.count
      for (const connection of connections) {
        if (left === 0) break
        if (!connection.closed && !connection.paused) {
          connection.pause()
          left--
        }
      }
      return command.count - left
    }
    case 'resume':
      for (const connection of connections) if (connection.paused) connection.resume()
      return null
    case 'report': {
      const report: LoadReport = {
        connections: connections.length,
        open: 0,
        paused: 0,
        closed: closedCount,
        cut: cutCount,
        received: 0,
        gaps: 0,
        reorders: 0,
        other: 0,
        lastReceivedAt: 0,
        histogram: histogram.counts.slice(),
      }
      for (const connection of connections) {
        if (!connection.closed) report.open++
        if (connection.paused) report.paused++
        report.received += connection.received
        report.gaps += connection.gaps
        report.reorders += connection.reorders
        report.other += connection.other
        if (connection.lastReceivedAt > report.lastReceivedAt) {
          report.lastReceivedAt = connection.lastReceivedAt
        }
      }
      return report
    }
    case 'stalledState':
      return connections
        .filter((connection) => connection.stalled)
        .map(
          (connection): StalledState => ({
            lastSeq: connection.lastSeq,
            lastId: connection.lastId,
            closed: connection.closed,
            received: connection.received,
          }),
        )
    case 'idOf':
      for (const connection of connections) {
        const id = connection.ids?.get(command.seq)
        if (id !== undefined) return id
      }
      return null
    case 'destroyStalled': {
      const kept: SSEClientConnection[] = []
      for (const connection of connections) {
        if (connection.stalled) connection.destroy()
        else kept.push(connection)
      }
      connections = kept
      return null
    }
    case 'closeAll':
      for (const connection of connections) connection.destroy()
      connections = []
      target = undefined
      return null
  }
}

port.on('message', (message: { id: number; command: LoadCommand }) => {
  run(message.command).then(
    (value) => {
      const transfer = value !== null && typeof value === 'object' && 'histogram' in value
      port.postMessage(
        { id: message.id, ok: true, value },
        transfer ? [(value as LoadReport).histogram.buffer as ArrayBuffer] : [],
      )
    },
    (error: unknown) => port.postMessage({ id: message.id, ok: false, error: String(error) }),
  )
})
