// The reader that `startFastReader` runs in a process of its own, so that its reading never waits
// on the server's event loop: `node readerProcess.mjs <url> <timeoutMs>`. Plain JavaScript, no
// build step. It reads as fast as the socket gives, parses just enough SSE (LF line ends, which is
// all our servers write) to check each event's sequence number, and sends one report over IPC
// (stdout when run by hand). It keeps no more than the head of the line it is reading.
import { get } from 'node:http'

/** Enough of a line to read `data: <sequence>` or `data: end <count>` from. */
const HEAD = 40
const started = performance.now()
const [url, timeoutArg = '30000'] = process.argv.slice(2)

const report = {
  status: 0,
  bytes: 0,
  events: 0,
  inOrder: true,
  firstGap: undefined,
  lastSequence: -1,
  announced: undefined,
  ending: 'timeout',
  error: undefined,
  elapsedMs: 0,
}

let lineHead = ''
let lineLength = 0
/** The current event's data (its head), once a `data` line has come. */
let pendingData
let finished = false
let request

function send(message, then) {
  if (process.send) process.send(message, then)
  else {
    process.stdout.write(`${JSON.stringify(message)}\n`)
    then?.()
  }
}

function finish(ending, error) {
  if (finished) return
  finished = true
  report.ending = ending
  if (error !== undefined) report.error = error
  report.elapsedMs = Math.round(performance.now() - started)
  send({ type: 'report', report }, () => {
    request?.destroy()
    process.exit(0)
  })
}

function dispatch() {
  const data = pendingData
  pendingData = undefined
  if (data === undefined) return
  if (data.startsWith('end ')) {
    report.announced = Number.parseInt(data.slice(4), 10)
    finish('end-event')
    return
  }
  report.events++
  const sequence = Number.parseInt(data, 10)
  if (sequence !== report.lastSequence + 1 && report.inOrder) {
    report.inOrder = false
    report.firstGap = { expected: report.lastSequence + 1, got: sequence }
  }
  report.lastSequence = sequence
}

function line() {
  if (lineLength === 0) dispatch()
  else if (lineHead.startsWith('data:')) {
    pendingData = lineHead.slice(lineHead.charCodeAt(5) === 32 ? 6 : 5)
  }
  lineHead = ''
  lineLength = 0
}

function read(chunk) {
  report.bytes += chunk.length
  let position = 0
  while (position < chunk.length && !finished) {
    const end = chunk.indexOf(10, position)
    const stop = end === -1 ? chunk.length : end
    if (lineLength < HEAD) {
      lineHead += chunk.toString('latin1', position, Math.min(stop, position + HEAD - lineLength))
    }
    lineLength += stop - position
    if (end === -1) return
    line()
    position = end + 1
  }
}

setTimeout(() => finish('timeout'), Number(timeoutArg))
// The test runner went away: nobody is left to report to.
process.on('disconnect', () => process.exit(0))

request = get(url, { headers: { accept: 'text/event-stream' } }, (response) => {
  report.status = response.statusCode ?? 0
  send({ type: 'head', status: report.status })
  response.on('data', read)
  response.on('end', () => finish('server-ended'))
  response.on('error', (error) => finish('cut', error.message))
  response.on('close', () => finish('cut'))
})
request.on('error', (error) =>
  finish(report.status === 0 ? 'request-failed' : 'cut', error.message),
)
