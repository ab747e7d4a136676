export * from '@sse/core'
export {
  createSSE,
  type FetchAuthorizeHook,
  type FetchSnapshotContext,
  type FetchSSE,
  type FetchSSEOptions,
  type FetchStream,
  type FetchStreamOptions,
} from './createSSE.js'
export type { NodeBindings } from './nodeBindings.js'
export { RequestView, webRequestOf } from './requestView.js'
export { BODY_HIGH_WATER } from './responseBridge.js'
export { BUN_KEEP_ALIVE } from './runtimeDefaults.js'
