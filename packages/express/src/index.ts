export {
  type Broker,
  type BrokerOptions,
  type BrokerStreamOptions,
  createBroker,
  escapeHtml,
  html,
  raw,
  refreshEvent,
  SSEError,
  type SSEErrorCode,
  type SSEEvent,
  type SSESourceValue,
  type SSEStream,
  type SSEStreamOptions,
  stateEvent,
} from '@sse/core'
export { type SSEMiddleware, type SSESource, sseMiddleware } from './sseMiddleware.js'
export type {
  OwnBrokerOptions,
  SharedBrokerOptions,
  SSEMiddlewareOptions,
} from './sseMiddlewareOptions.js'
