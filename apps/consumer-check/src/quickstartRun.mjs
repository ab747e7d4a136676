import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { EventSource } from 'eventsource'
import ts from 'typescript'
import { freePort, waitForPort } from './network.mjs'
import { ServerProcess } from './serverProcess.mjs'

/** What the check posts, and then expects in an event's data. */
export const quickstartText = 'hello from the check'

/** How long the event may take to arrive after the POST (and the stream to open). */
const eventTimeoutMs = 10_000
const pollMs = 50

/**
 * Runs one quick start as its contract says: compiled to an ES module with `ts.transpileModule`,
 * started with `node` and `PORT` set to a free port, then `GET /events` with the `eventsource`
 * client, `POST /messages` `{"text":"hello from the check"}`, and the text expected in an event
 * within 10 s. The server is killed at the end; it must not have ended on its own before.
 * @param {string} projectDir the ESM consumer project (its `node_modules` resolve the imports)
 * @param {import('./markdownBlocks.mjs').CodeBlock} block
 * @returns {Promise<string | undefined>} why it failed, or `undefined` when it passed
 */
export async function runQuickstart(projectDir, block) {
  const dir = join(projectDir, 'quickstarts')
  await mkdir(dir, { recursive: true })
  const script = join(dir, `${block.file.replace(/[^\w.-]+/g, '_')}-L${block.line}.mjs`)
  const { outputText } = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: 'quickstart.ts',
  })
  await writeFile(script, outputText)
  const port = await freePort()
  const server = new ServerProcess(script, {
    cwd: projectDir,
    env: { ...process.env, PORT: String(port) },
  })
  /** @type {EventSource | undefined} */
  let source
  try {
    await waitForPort(port, {
      attempts: 150,
      stop: () => server.crashed && `the server ${server.crashed} before listening`,
    })
    const received = /** @type {Array<{ type: string, data: string }>} */ ([])
    source = openEvents(`http://127.0.0.1:${port}/events`, received)
    const opened = source
    await until(() => opened.readyState === EventSource.OPEN, server, 'GET /events never opened')
    const response = await fetch(`http://127.0.0.1:${port}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: quickstartText }),
    })
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`POST /messages answered ${response.status}`)
    await until(
      () => received.some((event) => event.data.includes(quickstartText)),
      server,
      `no event carried "${quickstartText}" within ${eventTimeoutMs / 1000} s` +
        ` (received: ${JSON.stringify(received).slice(0, 300)})`,
    )
    return server.crashed && `the server ${server.crashed}`
  } catch (error) {
    const output = server.output.trim()
    const message = error instanceof Error ? error.message : String(error)
    return output ? `${message}\nserver output (tail):\n${tailLines(output, 15)}` : message
  } finally {
    source?.close()
    await server.stop()
  }
}

/**
 * Opens an `EventSource` and records every event it dispatches, whatever its type (an
 * `onmessage` handler alone would miss named events).
 * @param {string} url
 * @param {Array<{ type: string, data: string }>} received
 * @returns {EventSource}
 */
function openEvents(url, received) {
  const source = new EventSource(url)
  const dispatch = source.dispatchEvent.bind(source)
  source.dispatchEvent = (event) => {
    if ('data' in event && typeof event.data === 'string') {
      received.push({ type: event.type, data: event.data })
    }
    return dispatch(event)
  }
  return source
}

/**
 * Polls `condition` until it holds, the server ends, or the event timeout passes.
 * @param {() => boolean} condition
 * @param {ServerProcess} server
 * @param {string} timeoutMessage
 * @returns {Promise<void>}
 */
async function until(condition, server, timeoutMessage) {
  for (let waited = 0; waited <= eventTimeoutMs; waited += pollMs) {
    if (condition()) return
    if (server.crashed) throw new Error(`the server ${server.crashed}`)
    await delay(pollMs)
  }
  throw new Error(timeoutMessage)
}

/**
 * @param {string} text
 * @param {number} lines
 * @returns {string}
 */
function tailLines(text, lines) {
  return text.split('\n').slice(-lines).join('\n')
}
