export type { AuthorizeResult } from './authorizeVerdict.js'
export { Broker, createBroker } from './broker.js'
export type {
  AuthorizeHook,
  BrokerOptions,
  BrokerStreamOptions,
  PublishOptions,
} from './brokerOptions.js'
export { diagnostics } from './diagnostics.js'
export { escapeHtml, html, isSafeHtml, raw, refreshEvent, SafeHtml, stateEvent } from './html.js'
export { isResumableId, MAX_LAST_EVENT_ID_LENGTH, readLastEventId } from './lastEventId.js'
export { MemoryTransport, type MemoryTransportOptions } from './memoryTransport.js'
export {
  brokerOptionsProperties,
  createOptionsValidator,
  type OptionsSchema,
  type OptionsValidator,
  streamOptionsProperties,
} from './options.js'
export { encodeEvent, serializeEvent } from './serializeEvent.js'
export {
  type AdapterOptions,
  type AdapterSetup,
  isStreamSource,
  type OwnBrokerOptions,
  type SharedBrokerOptions,
  type StreamSource,
  setUpAdapter,
} from './setUpAdapter.js'
export { SSEError, type SSEErrorCode } from './sseError.js'
export { REPLAY_PAGE_BYTES, type SSESourceValue, SSEStream, type StreamOwner } from './sseStream.js'
export { StreamGroup } from './streamGroup.js'
export { MAX_TOPIC_LENGTH } from './topics.js'
export type {
  BrokerStats,
  Delivery,
  HistoryStats,
  OutgoingMessage,
  OverflowPolicy,
  ReplayLimits,
  ReplayResult,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
  Transport,
  TransportSink,
} from './types.js'
