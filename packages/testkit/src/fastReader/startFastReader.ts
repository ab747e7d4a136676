import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Cleanups } from '../useCleanups.js'

const readerFile = fileURLToPath(new URL('./readerProcess.mjs', import.meta.url))

/**
 * How a fast reader's stream was over:
 * - `end-event`: the final `end <count>` event arrived (what a test wants);
 * - `server-ended`: the server ended the response cleanly before it;
 * - `cut`: the connection broke before it (a server that cuts a slow client, say);
 * - `timeout`: the reader gave up after its `timeoutMs`;
 * - `request-failed`: no response came (refused, reset).
 */
export type FastReaderEnding = 'end-event' | 'server-ended' | 'cut' | 'timeout' | 'request-failed'

/** What a reader in another process received, as it reported it. */
export interface FastReaderReport {
  /** The response status; `0` if none came. */
  status: number
  /** Body bytes received. */
  bytes: number
  /** Events received (the final `end` event not counted). */
  events: number
  /** Whether every event's sequence number was the one before it plus one, starting at 0. */
  inOrder: boolean
  /** The first event out of order, if one was. */
  firstGap?: { expected: number; got: number }
  /** The sequence number of the last event received; `-1` for none. */
  lastSequence: number
  /** The count the final `end` event announced; `undefined` if it never came. */
  announced?: number
  ending: FastReaderEnding
  /** The request's or the connection's error message, if there was one. */
  error?: string
  /** From the reader's start to its report, in ms. */
  elapsedMs: number
}

/** A reader started by {@link startFastReader}. */
export interface FastReader {
  /** The reader process's id. */
  readonly pid: number
  /** Resolves with the response status once the head has arrived (the server has subscribed it). */
  readonly head: Promise<number>
  /** Resolves with the reader's report once it is over; rejects if the process died without one. */
  readonly report: Promise<FastReaderReport>
  /** Kills the reader (by its pid) if it still runs. Safe to call again. */
  kill(): void
}

/** How long a reader reads. */
export interface FastReaderOptions {
  /** After this long the reader reports `timeout` and exits. @default 30_000 */
  timeoutMs?: number
}

type ReaderMessage = { type: 'head'; status: number } | { type: 'report'; report: FastReaderReport }

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/**
 * Starts a client in a process of its own that GETs `url` and reads the event stream as fast as
 * its socket gives it, whatever this process's event loop is doing: a healthy client, which a
 * server must never cut as slow. Each event's data must start with its sequence number (0, 1, …),
 * and the stream must close with an event whose data is `end <count>`, as {@link publishPaced}
 * sends them. The reader exits once it has reported; `kill()` is for cleanups.
 *
 * @example
 * const reader = startFastReader(`${server.url}/events`)
 * cleanups.push(() => reader.kill())
 * await reader.head
 * await publishPaced((data) => broker.publish('t', data), { count: 500, eventBytes: 4096, megabytesPerSecond: 20 })
 * expect((await reader.report).ending).toBe('end-event')
 */
export function startFastReader(
  url: string,
  { timeoutMs = 30_000 }: FastReaderOptions = {},
): FastReader {
  // No execArgv of ours (a test runner's loaders): the reader is plain JavaScript.
  const child = spawn(process.execPath, [readerFile, url, String(timeoutMs)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000)
  })
  let headArrived: (status: number) => void = () => {}
  let reported: (report: FastReaderReport) => void = () => {}
  let failed: (error: Error) => void = () => {}
  const head = new Promise<number>((resolve, reject) => {
    headArrived = resolve
    child.once('close', () =>
      reject(new Error(`the fast reader exited before a response head came: ${stderr}`)),
    )
  })
  const report = new Promise<FastReaderReport>((resolve, reject) => {
    reported = resolve
    failed = reject
  })
  // Either may go unawaited by a test that fails early; their outcome is read there, not here.
  head.catch(() => {})
  report.catch(() => {})
  child.on('message', (message: ReaderMessage) => {
    if (message.type === 'head') headArrived(message.status)
    else {
      headArrived(message.report.status)
      reported(message.report)
    }
  })
  child.on('error', (error) => failed(error))
  child.once('close', (code, signal) => {
    failed(new Error(`the fast reader exited (${signal ?? code}) without a report: ${stderr}`))
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start the fast reader for ${url}`)
  return {
    pid,
    head,
    report,
    kill() {
      if (isRunning(child)) process.kill(pid, 'SIGKILL')
    },
  }
}

/** {@link startFastReader}, killed after the test by `cleanups`. */
export function useFastReader(
  cleanups: Cleanups,
  url: string,
  options: FastReaderOptions = {},
): FastReader {
  const reader = startFastReader(url, options)
  cleanups.push(() => reader.kill())
  return reader
}
