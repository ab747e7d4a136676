import { type ContenderId, FETCH_IDS } from './protocol.js'

/** Where a contender server runs: Node (the default) or Bun. */
export type Runtime = 'node' | 'bun'

/** The contenders that run in a Bun process (the rest run on Node). */
export const BUN_IDS: readonly ContenderId[] = ['baseline-bun', 'fetch-bun', 'hono-sse-bun']

/** The scenarios the Fetch contenders take part in; the others leave them out. */
export const FETCH_SCENARIOS: readonly string[] = ['S1', 'S1b', 'S2', 'S3']

export function runtimeOf(contender: ContenderId): Runtime {
  return BUN_IDS.includes(contender) ? 'bun' : 'node'
}

/**
 * The plain write loop on the contender's own runtime, which its "× baseline" ratios are taken
 * against: `baseline-bun` for the Bun contenders, the node:http `baseline` for every other.
 */
export function plainLoopOf(contender: ContenderId): ContenderId {
  return runtimeOf(contender) === 'bun' ? 'baseline-bun' : 'baseline'
}

/** Whether `contender` is one of the Fetch group (see `FETCH_IDS`). */
export function isFetchGroup(contender: ContenderId): boolean {
  return (FETCH_IDS as readonly ContenderId[]).includes(contender)
}

/**
 * The contenders with each runtime's plain loop ahead of the first contender on that runtime:
 * every ratio is taken against the plain loop of the same runtime in the same round.
 */
export function withPlainLoops(contenders: readonly ContenderId[]): ContenderId[] {
  const order: ContenderId[] = []
  for (const contender of contenders) {
    const loop = plainLoopOf(contender)
    if (!order.includes(loop)) order.push(loop)
    if (!order.includes(contender)) order.push(contender)
  }
  return order
}

/** The report's note on scenarios that ran contenders on Bun. */
export const BUN_RATIO_NOTE =
  'Contenders on Bun (Bun.serve, idleTimeout 0) run in a Bun process and are ratios to the plain loop on Bun (a ReadableStream per client, each event encoded once and enqueued on every controller) in the same round; the Node contenders are ratios to the node:http loop. On Bun, memory is read after Bun.gc(true), and write syscalls are not counted (Bun sends with sendto, which syscw leaves out).'
