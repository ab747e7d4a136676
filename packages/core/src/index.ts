/**
 * `@sse/core`: spec-exact Server-Sent Events for Node.js, and the broker with topics, history and
 * `Last-Event-ID` replay. This entry is the API for apps; adapter and transport authors also use
 * `@sse/core/kit`.
 * @packageDocumentation
 */
export type { AuthorizeResult } from './authorizeVerdict.js'
export { Broker, createBroker } from './broker.js'
export type {
  AuthorizeHook,
  BrokerOptions,
  BrokerStreamOptions,
  DisconnectOptions,
  DisconnectSelector,
  PublishOptions,
  SnapshotContext,
  SnapshotFunction,
  StreamLifetimeOptions,
} from './brokerOptions.js'
export { MAX_CONFLATION_KEY_LENGTH } from './conflationKey.js'
export { diagnostics } from './diagnostics.js'
export { escapeHtml, html, isSafeHtml, raw, refreshEvent, SafeHtml, stateEvent } from './html.js'
export { isResumableId, MAX_LAST_EVENT_ID_LENGTH, readLastEventId } from './lastEventId.js'
export { MemoryTransport, type MemoryTransportOptions } from './memoryTransport.js'
export type { SSESourceValue } from './pipeSource.js'
export { REPLAY_PAGE_BYTES } from './replayPages.js'
export { encodeEvent, serializeEvent } from './serializeEvent.js'
export type {
  AdapterOptions,
  OwnBrokerOptions,
  SharedBrokerOptions,
} from './setUpAdapter.js'
export type { SSEMethod, StreamSource } from './sseCall.js'
export { SSEError, type SSEErrorCode } from './sseError.js'
export { SSEStream } from './sseStream.js'
export { StreamGroup } from './streamGroup.js'
export { MAX_TAG_LENGTH, MAX_TAGS_PER_STREAM } from './tags.js'
export { MAX_TOPIC_LENGTH } from './topics.js'
export type {
  BrokerStats,
  HistoryStats,
  OverflowPolicy,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
} from './types.js'
