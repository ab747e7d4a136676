export * from '@sse/core'
export { type SSEMiddleware, type SSEMiddlewareOptions, sseMiddleware } from './sseMiddleware.js'
