/** Commands from the orchestrator to a load-generator thread. */
export type LoadCommand =
  | {
      op: 'connect'
      port: number
      path: string
      count: number
      /** Connections opening at once. */
      concurrency: number
      headers?: Record<string, string>
      /** Per connection `Last-Event-ID` (overrides `headers`), by index among this batch. */
      lastEventIds?: readonly string[]
      trackIds?: boolean
    }
  /**
   * Resolves `true` once every healthy (open, reading) connection has received `value` events
   * since the reset (`events`), or an event with sequence number `value` or later (`seq`);
   * `false` after `timeout` ms.
   */
  | { op: 'expect'; kind: 'events' | 'seq'; value: number; timeout: number }
  | { op: 'reset' }
  | { op: 'pause'; count: number }
  | { op: 'resume' }
  | { op: 'report' }
  /** Sequence number and id of the last event of each stalled (paused at some point) connection. */
  | { op: 'stalledState' }
  /** The id of the event with sequence number `seq`, as the first id-tracking connection saw it. */
  | { op: 'idOf'; seq: number }
  | { op: 'destroyStalled' }
  | { op: 'closeAll' }

export interface ConnectResult {
  opened: number
  failed: number
  statuses: Record<string, number>
}

export interface LoadReport {
  connections: number
  open: number
  paused: number
  /** Connections the server closed (or that failed) since they were opened. */
  closed: number
  /**
   * Streams the server ended, since the last reset, that had opened, were never paused, and that
   * the load generator did not close itself: healthy clients cut.
   */
  cut: number
  received: number
  gaps: number
  reorders: number
  other: number
  /** µs (thread clock) of the last event on any connection. */
  lastReceivedAt: number
  histogram: Uint32Array
}

export interface StalledState {
  lastSeq: number
  lastId: string | undefined
  closed: boolean
  received: number
}

export type LoadReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }
