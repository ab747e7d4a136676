import { afterEach, beforeEach, expect, test, vi } from 'vitest'
import { DeadlineQueue } from '../src/lifetime/deadlineQueue.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A queue that records what expired, as `name@ms since start`. */
function recordingQueue() {
  const start = Date.now()
  const expired: string[] = []
  const queue = new DeadlineQueue<string>((item, after) => {
    expired.push(`${item}@${Date.now() - start}/${after}`)
  })
  return { queue, expired }
}

test('10,000 deadlines share one timer, and each item expires at its own time, in deadline order', () => {
  const { queue, expired } = recordingQueue()
  const delays = Array.from({ length: 10_000 }, (_, i) => 1 + ((i * 7919) % 5000))
  for (const [i, delay] of delays.entries()) queue.add(`s${i}`, delay)
  expect(vi.getTimerCount()).toBe(1)
  expect(queue.size).toBe(10_000)
  vi.advanceTimersByTime(5000)
  expect(expired).toHaveLength(10_000)
  const times = expired.map((entry) => Number(entry.split('@')[1]!.split('/')[0]))
  expect(times).toEqual([...times].sort((a, b) => a - b))
  for (const entry of expired) {
    const [at, after] = entry.split('@')[1]!.split('/').map(Number)
    expect(at).toBe(after)
  }
  expect(vi.getTimerCount()).toBe(0)
  expect(queue.armed).toBe(false)
})

test('deleting items (the earliest included) leaves the others due on time, and an empty queue holds no timer', () => {
  const { queue, expired } = recordingQueue()
  for (let i = 0; i < 100; i++) queue.add(`s${i}`, 100 + i)
  queue.delete('s0')
  for (let i = 2; i < 100; i += 2) queue.delete(`s${i}`)
  queue.delete('never added')
  vi.advanceTimersByTime(200)
  expect(expired.map((entry) => entry.split('@')[0])).toEqual(
    Array.from({ length: 50 }, (_, k) => `s${2 * k + 1}`),
  )
  queue.add('late', 1000)
  expect(queue.armed).toBe(true)
  queue.delete('late')
  expect(queue.armed).toBe(false)
  expect(vi.getTimerCount()).toBe(0)
})

test('an earlier deadline re-arms the timer; adding an item again replaces its deadline', () => {
  const { queue, expired } = recordingQueue()
  queue.add('late', 10_000)
  queue.add('soon', 10)
  queue.add('moved', 50)
  queue.add('moved', 20_000)
  vi.advanceTimersByTime(10)
  expect(expired).toEqual(['soon@10/10'])
  vi.advanceTimersByTime(20_000)
  expect(expired).toEqual(['soon@10/10', 'late@10000/10000', 'moved@20000/20000'])
})

test('an item can leave or join the queue from inside expire, and clear() stops everything', () => {
  const start = Date.now()
  const expired: string[] = []
  const queue: DeadlineQueue<string> = new DeadlineQueue((item) => {
    expired.push(`${item}@${Date.now() - start}`)
    if (item === 'a') {
      queue.delete('b') // due at the same time
      queue.add('c', 5)
    }
  })
  queue.add('a', 10)
  queue.add('b', 10)
  queue.add('d', 100)
  vi.advanceTimersByTime(15)
  expect(expired).toEqual(['a@10', 'c@15'])
  queue.clear()
  expect(queue.size).toBe(0)
  expect(vi.getTimerCount()).toBe(0)
  vi.advanceTimersByTime(1000)
  expect(expired).toEqual(['a@10', 'c@15'])
})

test('the shared timer never holds the process open', () => {
  vi.useRealTimers()
  const queue = new DeadlineQueue<string>(() => {})
  const before = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
  queue.add('a', 60_000)
  expect(queue.armed).toBe(true)
  const after = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
  expect(after).toBe(before)
  queue.clear()
})
