/**
 * `@sse/core/kit`: for authors of framework adapters and transports. Apps need only `@sse/core`.
 *
 * - Adapters: {@link setUpAdapter} (options, broker and stream group) and {@link readSSECall} (the
 *   one `sse()` contract), with {@link createOptionsValidator} and {@link splitAdapterOptions} for
 *   their own options.
 * - Transports: the {@link Transport} contract and the types that cross it.
 * @packageDocumentation
 */
export { conflationToken } from './conflationKey.js'
export type { CreatePeers } from './controlChecks.js'
export {
  brokerOptionsProperties,
  createOptionsValidator,
  type OptionsSchema,
  type OptionsValidator,
  streamOptionsProperties,
} from './options.js'
export { ReplayCompaction } from './replayCompaction.js'
export { type AdapterSetup, setUpAdapter, splitAdapterOptions } from './setUpAdapter.js'
export { readSSECall, type SSECall } from './sseCall.js'
export {
  type ContractCheck,
  type TransportContractOptions,
  transportContract,
} from './transportContract.js'
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
