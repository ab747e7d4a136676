import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MemoryTransport, type MemoryTransportOptions } from '@sse/core'
import { useCleanups } from '@sse/testkit'
import { afterEach, expect, test, vi } from 'vitest'
import { sweepInterval } from '../src/history/memoryTransport.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const KiB = 1024
const MiB = 1024 * KiB
/** What a measurement may differ by beyond the history itself: V8's own tables, the test's noise. */
const SLACK = 4 * MiB

/** Heap plus array buffers (where large frames live), after collecting garbage. */
function memoryAfterGc(): number {
  for (let i = 0; i < 3; i++) gc()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

const cleanups = useCleanups()
// Hooks run in reverse: real timers are back before the cleanups run.
afterEach(() => {
  vi.useRealTimers()
})

function started(options: MemoryTransportOptions): MemoryTransport {
  const transport = new MemoryTransport(options)
  transport.start({ deliver: () => {}, error: () => {} })
  cleanups.push(() => transport.close())
  return transport
}

function publish(transport: MemoryTransport, topic: string, data: string): void {
  transport.publish({ topics: [topic], bodies: [`event: ${topic}\ndata: ${data}\n\n`] })
}

test('200-byte events to 200,000 distinct topics stay within historyMaxBytes', () => {
  const baseline = memoryAfterGc()
  const transport = started({ historyMaxBytes: 8 * MiB })
  const data = 'x'.repeat(200)
  for (let i = 0; i < 200_000; i++) publish(transport, `topic:${i}`, data)
  const growth = memoryAfterGc() - baseline
  expect(transport.historyStats().bytes).toBeLessThanOrEqual(8 * MiB)
  expect(growth).toBeLessThan(8 * MiB + SLACK)
})

test('with historySize 10, 5,000 events of 16 KiB to one topic hold about ten of them', () => {
  const baseline = memoryAfterGc()
  const transport = started({ historySize: 10 })
  const data = 'x'.repeat(16 * KiB)
  for (let i = 0; i < 5000; i++) publish(transport, 'big', data)
  const growth = memoryAfterGc() - baseline
  expect(transport.historyStats().events).toBe(10)
  expect(growth).toBeLessThan(10 * 16 * KiB + SLACK)
})

test('events older than historyMaxAge are freed by the sweep, without any publish or replay', () => {
  vi.useFakeTimers()
  const baseline = memoryAfterGc()
  const transport = started({ historyMaxAge: 60_000 })
  const data = 'x'.repeat(KiB)
  for (let i = 0; i < 16_000; i++) publish(transport, `topic:${i % 100}`, data)
  const held = memoryAfterGc() - baseline
  expect(held).toBeGreaterThan(16 * MiB)
  vi.advanceTimersByTime(60_000 + sweepInterval(60_000))
  expect(transport.historyStats()).toEqual({ topics: 0, events: 0, bytes: 0 })
  const growth = memoryAfterGc() - baseline
  expect(growth).toBeLessThan(SLACK)
})
