/**
 * `@sse/core/kit`: for authors of framework adapters and transports. Apps need only `@sse/core`.
 *
 * - Adapters: {@link setUpAdapter} (options, broker and stream group) and {@link readSSECall} (the
 *   one `sse()` contract), with {@link createOptionsValidator} and {@link splitAdapterOptions} for
 *   their own options.
 * - Transports: the {@link Transport} contract and the types that cross it. The checks a transport
 *   must pass are `transportContract()` in `@sse/testing/transport`.
 * @packageDocumentation
 */

export { type AdapterSetup, setUpAdapter, splitAdapterOptions } from './adapter/setUpAdapter.js'
export { readSSECall, type SSECall } from './adapter/sseCall.js'
export { conflationToken } from './conflation/conflationKey.js'
export { ReplayCompaction } from './conflation/replayCompaction.js'
export {
  brokerOptionsProperties,
  createOptionsValidator,
  MAX_TIMER_MS,
  type OptionsSchema,
  type OptionsValidator,
  streamOptionsProperties,
} from './options/options.js'
export type {
  ControlMessage,
  Delivery,
  HistoryStats,
  OutgoingMessage,
  ReplayLimits,
  ReplayResult,
  Transport,
  TransportSink,
} from './types.js'
