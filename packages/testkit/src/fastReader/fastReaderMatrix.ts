import { describe, expect, test } from 'vitest'
import type { Cleanups } from '../useCleanups.js'
import { describeFastReaderRun, fastReaderCases, runFastReader } from './fastReaderCases.js'

/** What {@link fastReaderMatrix} needs of a server under test: its broker and its stream's URL. */
export interface FastReaderTarget {
  readonly broker: {
    publish(topic: string, data: string): unknown
    stats(): { readonly slowDisconnects: number }
  }
  /** A stream on topic `t`, default options. */
  readonly url: string
}

/**
 * The tests of {@link fastReaderCases} against one server kind (`label` names it in the log): a
 * reader in another process, default options, the server busy 25 ms of every 100, gets every event
 * in order and is never cut as slow. `serve` starts a fresh server per case.
 */
export function fastReaderMatrix(
  label: string,
  cleanups: Cleanups,
  serve: () => Promise<FastReaderTarget>,
): void {
  describe('a reader in another process, default options, the server busy 25 ms of every 100', () => {
    test.each(fastReaderCases)(
      '$name: it gets every event, in order, and is never cut as slow',
      async ({ count, eventBytes, megabytesPerSecond }) => {
        const { broker, url } = await serve()
        const run = await runFastReader(cleanups, url, (data) => broker.publish('t', data), {
          count,
          eventBytes,
          megabytesPerSecond,
          busy: true,
        })
        console.log(
          `${label} ${megabytesPerSecond} MB/s × ${eventBytes} B: ${describeFastReaderRun(run)}`,
        )
        expect({
          ending: run.report.ending,
          events: run.report.events,
          inOrder: run.report.inOrder,
          slowDisconnects: broker.stats().slowDisconnects,
        }).toEqual({ ending: 'end-event', events: count, inOrder: true, slowDisconnects: 0 })
        expect(run.publishing).toMatchObject({ published: count, errors: [] })
      },
      60_000,
    )
  })
}
