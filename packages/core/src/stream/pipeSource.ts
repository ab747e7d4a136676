import { SSEError } from '../sseError.js'
import type { SSEEvent } from '../types.js'

/** An event, or a string sent as the event's `data`. */
export type SSESourceValue = SSEEvent | string

/** What {@link pipeSource} needs of a stream. */
export interface PipeTarget {
  readonly isClosed: boolean
  send(event: SSEEvent): boolean
  close(): void
}

/** The stream's side of a pipe: when it can take more, and where the producer is registered. */
export interface PipeGate {
  /** Resolves when the stream can take more (open and not pushing back), or has closed; `undefined` when it can now. */
  writable(): Promise<void> | undefined
  /** Registers the iterator, so the stream stops the producer (`return()`) when the client leaves. */
  attach(iterator: AsyncIterator<unknown> | undefined): void
}

function ignore(): void {}

/**
 * Sends every value of `source` as an event (a string becomes `data`), pausing while the stream
 * cannot take more, and closes the stream when the source ends. If the source throws, the stream
 * is closed and the promise rejects with an {@link SSEError} `SOURCE_FAILED`.
 */
export async function pipeSource(
  stream: PipeTarget,
  gate: PipeGate,
  source: AsyncIterable<SSESourceValue> | Iterable<SSESourceValue>,
): Promise<void> {
  const iterator: AsyncIterator<SSESourceValue> =
    Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (async function* () {
          yield* source
        })()
  gate.attach(iterator)
  try {
    for (;;) {
      const wait = gate.writable()
      if (wait !== undefined) await wait
      if (stream.isClosed) break
      const step = await iterator.next()
      if (step.done || stream.isClosed) break
      stream.send(typeof step.value === 'string' ? { data: step.value } : step.value)
    }
  } catch (cause) {
    gate.attach(undefined)
    iterator.return?.()?.catch(ignore)
    stream.close()
    throw new SSEError('SOURCE_FAILED', '@sse/core: the source piped into the stream threw', {
      cause,
    })
  }
  gate.attach(undefined)
  stream.close()
}
