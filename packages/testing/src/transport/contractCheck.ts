import type { Open } from './contractSession.js'

/** One behaviour of the contract: a sentence naming it, and a run that throws when it does not hold. */
export interface ContractCheck {
  readonly name: string
  run(): Promise<void>
}

/**
 * Makes a check of `body`, run on fresh sessions of the transport under test (`open()`), closed
 * when it is done.
 */
export type DefineCheck = (name: string, body: (open: Open) => Promise<void>) => ContractCheck
