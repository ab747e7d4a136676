import { ssePlugin } from './ssePlugin.js'

export * from '@sse/core'
export type { SSEPluginOptions } from './ssePluginOptions.js'
export type { ReplySSE } from './sseReply.js'
export { ssePlugin }
export default ssePlugin
