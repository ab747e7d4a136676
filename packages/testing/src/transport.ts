/**
 * `@sse/testing/transport`: for authors of transports. {@link transportContract} is the behaviour
 * every `Transport` (from `@sse/core/kit`) owes the broker, as checks that run in any test runner.
 *
 * @example
 * import { transportContract } from '@sse/testing/transport'
 * import { test } from 'vitest'
 *
 * for (const check of transportContract({ create: () => new MyTransport(), resumesFromPublisherIds: true })) {
 *   test(check.name, check.run)
 * }
 * @packageDocumentation
 */
export type { ContractCheck } from './transport/contractCheck.js'
export type { CreatePeers } from './transport/controlChecks.js'
export { type TransportContractOptions, transportContract } from './transport/transportContract.js'
