import type { Cleanups } from '../useCleanups.js'
import { type PacedPublishOptions, type PacedPublishResult, publishPaced } from './publishPaced.js'
import { type FastReaderReport, useFastReader } from './startFastReader.js'

/** One pace and event size for a reader in another process. */
export interface FastReaderCase {
  /** `20 MB/s, 4 KiB events`, for test names. */
  readonly name: string
  readonly megabytesPerSecond: number
  readonly eventBytes: number
  /** Events to publish: about 1.5 s of publishing at this pace, or 8 MB, whichever is less. */
  readonly count: number
}

/** Each case's publishing: 1.5 s at its pace, at most 8 MB, so that a matrix stays short on CI. */
const CASE_MS = 1500
const CASE_BYTES = 8e6

/**
 * 5, 20 and 40 MB/s with 1, 4 and 16 KiB events: the paces a healthy client on loopback or a LAN
 * keeps up with, which no default option may cut.
 */
export const fastReaderCases: readonly FastReaderCase[] = [5, 20, 40].flatMap(
  (megabytesPerSecond) =>
    [1, 4, 16].map((kib) => {
      const eventBytes = kib * 1024
      const bytes = Math.min((megabytesPerSecond * 1e6 * CASE_MS) / 1000, CASE_BYTES)
      return {
        name: `${megabytesPerSecond} MB/s, ${kib} KiB events`,
        megabytesPerSecond,
        eventBytes,
        count: Math.floor(bytes / eventBytes),
      }
    }),
)

/** What one run of {@link runFastReader} saw, on both sides. */
export interface FastReaderRun {
  readonly report: FastReaderReport
  readonly publishing: PacedPublishResult
}

/**
 * Starts a reader in another process on `url` (killed by `cleanups`), waits for its response head,
 * publishes through `publish` as {@link publishPaced} does with `options`, and resolves with the
 * reader's report once it is over (it reads until the `end` event, a cut, or 30 s).
 *
 * @example
 * const { report } = await runFastReader(cleanups, `${url}/events`, (data) => broker.publish('t', data), {
 *   count: 500, eventBytes: 4096, megabytesPerSecond: 20, busy: true,
 * })
 */
export async function runFastReader(
  cleanups: Cleanups,
  url: string,
  publish: (data: string) => unknown,
  options: PacedPublishOptions,
): Promise<FastReaderRun> {
  const reader = useFastReader(cleanups, url)
  const status = await reader.head
  if (status !== 200) throw new Error(`the fast reader got status ${status} from ${url}`)
  const publishing = await publishPaced(publish, options)
  return { report: await reader.report, publishing }
}

/** One line of figures for a test's log: what was sent, what arrived, how it ended. */
export function describeFastReaderRun({ report, publishing }: FastReaderRun): string {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1)
  const rate = publishing.bytes / 1e3 / Math.max(1, publishing.elapsedMs)
  return `published ${publishing.published} in ${publishing.elapsedMs.toFixed(0)} ms (busy ${publishing.busyMs.toFixed(0)} ms, ${rate.toFixed(1)} MB/s reached); reader: ${report.events} events, ${mb(report.bytes)} MB, ${report.ending}${report.inOrder ? '' : `, out of order at ${JSON.stringify(report.firstGap)}`}`
}
