// @sse/testkit: what every package's tests share. The browser kit (`@sse/testkit/browser`) and the
// redis-server launcher (`@sse/testkit/redisServer`, also used by the bench) are subpaths.
export {
  type AdapterTestOptions,
  type AdapterUnderTest,
  type AppUnderTest,
  type BrokerUnderTest,
  describeAdapterConformance,
  invalidAdapterOptions,
  largestAdapterOptions,
  type ReportedError,
} from './adapterConformance.js'
export { authorizeVerdicts, type VerdictCase } from './authorizeVerdicts.js'
export { type BundleOptions, bundleFromSources } from './bundleFromSources.js'
export { type EndlessSource, endlessSource } from './endlessSource.js'
export { type ErrorClass, errorOf } from './errorOf.js'
export { type H2Stream, h2Client } from './h2Client.js'
export { type Handler, type Listening, listen, listenH2 } from './listen.js'
export { onCI } from './onCI.js'
export { once } from './once.js'
export { openClient, type RawClient, type RawClientOptions, rawClient } from './rawClient.js'
export { httpRequests, openSocket, RawSocket, rawSocket } from './rawSocket.js'
export { recordUnhandledRejections } from './recordUnhandledRejections.js'
export { type IsolatedRun, type RunIsolatedOptions, runIsolated } from './runIsolated.js'
export { type Cleanups, runCleanups, useCleanups } from './useCleanups.js'
export { type WaitForOptions, waitFor } from './waitFor.js'
