// @sse/testkit: what every package's tests share beyond the public kit. Event streams are opened
// with `openStream` from `@sse/testing`, as our users open theirs; this package keeps what that
// kit does not do: servers for handlers, raw sockets (pipelining, clients that never read), many
// streams on one HTTP/2 session, cleanups, the redis-server launcher and the browser kit (subpaths).
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
export {
  checkKeyedPublishing,
  checkRotationResumes,
  type EventSourceLike,
} from './adapterScenarios.js'
export { authorizeVerdicts, type VerdictCase } from './authorizeVerdicts.js'
export { type BundleOptions, bundleFromSources } from './bundleFromSources.js'
export { type EndlessSource, endlessSource } from './endlessSource.js'
export { type ErrorClass, errorOf } from './errorOf.js'
export {
  describeFastReaderRun,
  type FastReaderCase,
  type FastReaderRun,
  fastReaderCases,
  runFastReader,
} from './fastReader/fastReaderCases.js'
export { type FastReaderTarget, fastReaderMatrix } from './fastReader/fastReaderMatrix.js'
export {
  type PacedPublishOptions,
  type PacedPublishResult,
  publishPaced,
  sequencedData,
} from './fastReader/publishPaced.js'
export {
  type FastReader,
  type FastReaderEnding,
  type FastReaderOptions,
  type FastReaderReport,
  startFastReader,
  useFastReader,
} from './fastReader/startFastReader.js'
export { type H2Stream, h2Client } from './h2Client.js'
export { heldAfterGc } from './heldAfterGc.js'
export { type Handler, type Listening, listen, listenH2 } from './listen.js'
export { onCI } from './onCI.js'
export { once } from './once.js'
export {
  codeSpans,
  compareOptionNames,
  documentedNames,
  type OptionRow,
  optionsTable,
} from './optionsTable.js'
export { httpRequests, openSocket, RawSocket, rawSocket } from './rawSocket.js'
export { recordUnhandledRejections } from './recordUnhandledRejections.js'
export { type IsolatedRun, type RunIsolatedOptions, runIsolated } from './runIsolated.js'
export { type Cleanups, runCleanups, useCleanups } from './useCleanups.js'
export { type WaitForOptions, waitFor } from './waitFor.js'
