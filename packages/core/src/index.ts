/**
 * `@sse/core`: spec-exact Server-Sent Events for Node.js, and the broker with topics, history and
 * `Last-Event-ID` replay. This entry is the API for apps; adapter and transport authors also use
 * `@sse/core/kit`.
 * @packageDocumentation
 */

export type {
  AdapterOptions,
  OwnBrokerOptions,
  SharedBrokerOptions,
} from './adapter/setUpAdapter.js'
export type { SSEMethod, StreamSource } from './adapter/sseCall.js'
export { Broker, createBroker } from './broker/broker.js'
export { MAX_CONFLATION_KEY_LENGTH } from './conflation/conflationKey.js'
export { diagnostics } from './diagnostics.js'
export { MemoryTransport, type MemoryTransportOptions } from './history/memoryTransport.js'
export type {
  AuthorizeHook,
  AuthorizeResult,
  BrokerOptions,
  BrokerStreamOptions,
  DisconnectOptions,
  DisconnectSelector,
  PublishOptions,
  SnapshotContext,
  SnapshotFunction,
  StreamLifetimeOptions,
} from './options/brokerOptions.js'
export { SSEError, type SSEErrorCode } from './sseError.js'
export type { SSESourceValue } from './stream/pipeSource.js'
export { REPLAY_PAGE_BYTES } from './stream/replayPages.js'
export { SSEStream } from './stream/sseStream.js'
export { StreamGroup } from './subscribers/streamGroup.js'
export type {
  BrokerStats,
  HistoryStats,
  OverflowPolicy,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
} from './types.js'
export {
  type ElementNamespace,
  type ElementPatchMode,
  type ExecuteScriptOptions,
  executeScript,
  type PatchElementsOptions,
  type PatchSignalsOptions,
  patchElements,
  patchSignals,
  removeElements,
  signalsKey,
} from './wire/datastar.js'
export {
  escapeHtml,
  html,
  isSafeHtml,
  raw,
  refreshEvent,
  SafeHtml,
  stateEvent,
} from './wire/html.js'
export { isResumableId, MAX_LAST_EVENT_ID_LENGTH, readLastEventId } from './wire/lastEventId.js'
export { encodeEvent, serializeEvent } from './wire/serializeEvent.js'
export { MAX_TAG_LENGTH, MAX_TAGS_PER_STREAM } from './wire/tags.js'
export { MAX_TOPIC_LENGTH } from './wire/topics.js'
