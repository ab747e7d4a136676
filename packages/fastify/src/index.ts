import { ssePlugin } from './ssePlugin.js'

export {
  type Broker,
  type BrokerOptions,
  type BrokerStreamOptions,
  createBroker,
  escapeHtml,
  html,
  type OwnBrokerOptions,
  raw,
  refreshEvent,
  type SharedBrokerOptions,
  SSEError,
  type SSEErrorCode,
  type SSEEvent,
  type SSESourceValue,
  type SSEStream,
  type SSEStreamOptions,
  stateEvent,
} from '@sse/core'
export type { SSEPluginOptions } from './ssePluginOptions.js'
export type { ReplySSE, SSESource } from './sseReply.js'
export { ssePlugin }
export default ssePlugin
