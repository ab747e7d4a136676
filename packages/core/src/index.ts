export {
  type AuthorizeHook,
  type AuthorizeResult,
  Broker,
  type BrokerOptions,
  type BrokerStreamOptions,
  createBroker,
  type PublishOptions,
  StreamGroup,
} from './broker.js'
export { diagnostics } from './diagnostics.js'
export { escapeHtml, html, raw, refreshEvent, SafeHtml, stateEvent } from './html.js'
export { MAX_LAST_EVENT_ID_LENGTH, readLastEventId } from './lastEventId.js'
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
export { type SSESourceValue, SSEStream, type StreamOwner } from './sseStream.js'
export type {
  BrokerStats,
  Delivery,
  OutgoingMessage,
  OverflowPolicy,
  ReplayResult,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
  Transport,
  TransportSink,
} from './types.js'
