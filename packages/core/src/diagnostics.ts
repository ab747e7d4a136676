import { channel } from 'node:diagnostics_channel'

/**
 * `node:diagnostics_channel` channels the broker publishes to, so metrics exporters can subscribe
 * without wrapping the broker. Messages are only built when a channel has subscribers.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('sse:publish', (msg) => counter.inc())
 */
export const diagnostics = {
  /** `{ broker, id, topics }` for every publish. */
  publish: channel('sse:publish'),
  /** `{ broker, stream, topics }` when a stream opens. */
  open: channel('sse:open'),
  /** `{ broker, stream, topics }` when a stream closes. */
  close: channel('sse:close'),
  /** `{ broker, request, status, error? }` when a stream is refused (`error`: the `SSEError` of a 400). */
  refuse: channel('sse:refuse'),
  /** `{ broker, stream }` when a frame is dropped (`drop` policy). */
  drop: channel('sse:drop'),
  /**
   * `{ broker, stream }` when a pending frame of a keyed event is replaced by a newer one of the same
   * topic and key, for a client that has fallen behind (see `publish(..., { key })`).
   */
  conflate: channel('sse:conflate'),
  /** `{ broker, stream, duringReplay }` when a slow client is disconnected. */
  slowDisconnect: channel('sse:slow-disconnect'),
  /** `{ broker, stream, count, reset, capped, snapshot? }` when a replay (or the reset event, or a snapshot, instead) is handed to a stream. */
  replay: channel('sse:replay'),
  /**
   * `{ transport, topic, bytes, total }` when the in-memory history drops a whole topic to stay
   * under `historyMaxBytes` (`bytes`: what the topic held; `total`: what all topics hold now).
   * Frequent evictions mean clients of quiet topics get the reset event: raise the bound.
   */
  historyEvict: channel('sse:history-evict'),
  /**
   * `{ broker, tags, count, remote }` for every `broker.disconnect()` acted on here: `count` streams
   * ended on this instance; `remote`: asked by another instance through the transport.
   */
  disconnect: channel('sse:disconnect'),
  /** `{ broker, stream, duration }` when a stream reaches its lifetime (`maxDuration` ± jitter, in ms) and is ended. */
  rotate: channel('sse:rotate'),
  /** `{ broker, error }` for failures nobody awaits (transport outages, authorize hook, stream head). */
  error: channel('sse:error'),
}
