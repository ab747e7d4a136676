import { AssertionError } from 'node:assert'
import { MemoryTransport } from '@sse/core'
import type { Transport, TransportSink } from '@sse/core/kit'
import {
  type ContractCheck,
  type TransportContractOptions,
  transportContract,
} from '@sse/testing/transport'
import { describe, expect, test } from 'vitest'

const memory: TransportContractOptions = {
  create: () => new MemoryTransport(),
  createWithHistorySize: (historySize) => new MemoryTransport({ historySize }),
  resumesFromPublisherIds: true,
}

describe('MemoryTransport meets the Transport contract', () => {
  for (const check of transportContract(memory)) test(check.name, check.run)
})

/** The contract's options for MemoryTransports with one behaviour broken by `tamper`. */
function broken(tamper: (inner: MemoryTransport) => Partial<Transport>): TransportContractOptions {
  const create = (historySize?: number) => {
    const inner = new MemoryTransport(historySize === undefined ? {} : { historySize })
    const transport: Transport = {
      start: (sink) => inner.start(sink),
      publish: (message) => inner.publish(message),
      replay: (topics, lastEventId, limits) => inner.replay(topics, lastEventId, limits),
      historyStats: () => inner.historyStats(),
      cursor: () => inner.cursor(),
      close: () => inner.close(),
    }
    return Object.assign(transport, tamper(inner))
  }
  return { ...memory, create: () => create(), createWithHistorySize: create }
}

/**
 * The contract's options for MemoryTransports that deliver only the topics followed (`follow`, held
 * until as many `unfollow`s), as a transport reading only what its streams want does; `tamper`
 * breaks one behaviour. `timeout` is short: a follow that hangs fails fast.
 */
function following(
  tamper: (refs: Map<string, number>) => Partial<Transport> = () => ({}),
): TransportContractOptions {
  const create = (historySize?: number) => {
    const inner = new MemoryTransport(historySize === undefined ? {} : { historySize })
    const refs = new Map<string, number>()
    const transport: Transport = {
      start: (sink) =>
        inner.start({
          ...sink,
          deliver: (delivery) => {
            if (delivery.topics.some((topic) => refs.has(topic))) sink.deliver(delivery)
          },
        }),
      publish: (message) => inner.publish(message),
      replay: (topics, lastEventId, limits) => inner.replay(topics, lastEventId, limits),
      cursor: () => inner.cursor(),
      follow(topics) {
        for (const topic of topics) refs.set(topic, (refs.get(topic) ?? 0) + 1)
      },
      unfollow(topics) {
        for (const topic of topics) {
          const left = (refs.get(topic) ?? 0) - 1
          if (left > 0) refs.set(topic, left)
          else refs.delete(topic)
        }
      },
      close: () => inner.close(),
    }
    return Object.assign(transport, tamper(refs))
  }
  return { ...memory, create: () => create(), createWithHistorySize: create, timeout: 300 }
}

/** Runs the checks whose names contain `fragment` (at least one) and returns how each ended. */
async function outcomes(checks: readonly ContractCheck[], fragment: string) {
  const matching = checks.filter((check) => check.name.includes(fragment))
  expect(matching.length, `checks named "${fragment}"`).toBeGreaterThan(0)
  return Promise.all(
    matching.map((check) =>
      check.run().then(
        () => 'passed',
        (error: unknown) => (error instanceof AssertionError ? 'failed' : error),
      ),
    ),
  )
}

describe('the contract catches a broken transport', () => {
  test('one that delivers every event twice fails "exactly once"', async () => {
    const checks = transportContract(
      broken((inner) => ({
        start(sink: TransportSink) {
          inner.start({
            deliver: (delivery) => {
              sink.deliver(delivery)
              sink.deliver(delivery)
            },
            error: (error) => sink.error(error),
          })
        },
      })),
    )
    expect(await outcomes(checks, 'exactly once')).toEqual(['failed'])
  })

  test('one that resets to headId "" fails the checks of unusable and unknown ids', async () => {
    const checks = transportContract(
      broken((inner) => ({
        replay(topics, lastEventId, limits) {
          const result = inner.replay(topics, lastEventId, limits)
          return result.reset ? { reset: true, headId: '' } : result
        },
      })),
    )
    expect(await outcomes(checks, 'whose headId resumes')).toEqual([
      'failed', // no id at all
      'failed', // never issued
      'failed', // older than the history
      'failed', // capped
    ])
  })

  test('one that answers no events for an unknown id (a silent gap) fails', async () => {
    const checks = transportContract(
      broken((inner) => ({
        replay(topics, lastEventId, limits) {
          const result = inner.replay(topics, lastEventId, limits)
          return result.reset && result.capped !== true ? { reset: false, deliveries: [] } : result
        },
      })),
    )
    expect(await outcomes(checks, 'never issued')).toEqual(['failed'])
    expect(await outcomes(checks, 'no id at all')).toEqual(['failed'])
  })

  test('one that ignores the replay limits fails the limits check', async () => {
    const checks = transportContract(
      broken((inner) => ({
        replay: (topics, lastEventId) => inner.replay(topics, lastEventId),
      })),
    )
    expect(await outcomes(checks, 'limits.maxEvents')).toEqual(['failed'])
  })

  test('one that keeps delivering after close() fails the close check', async () => {
    const checks = transportContract(broken(() => ({ close() {} })))
    expect(await outcomes(checks, 'close() resolves')).toEqual(['failed'])
  })

  test('one that claims not to resume from publisher ids, yet does, fails that check', async () => {
    const checks = transportContract({ ...memory, resumesFromPublisherIds: false })
    expect(await outcomes(checks, 'its own id')).toEqual(['failed'])
  })

  test('one whose historyStats() miscounts fails the historyStats check', async () => {
    const checks = transportContract(
      broken((inner) => ({
        historyStats: () => ({ ...inner.historyStats(), topics: 0 }),
      })),
    )
    expect(await outcomes(checks, 'historyStats()')).toEqual(['failed'])
  })

  test('bad options are refused with INVALID_OPTION naming the option', () => {
    expect(() => transportContract({ ...memory, resumesFromPublisherIds: 'yes' as never })).toThrow(
      '@sse/testing: transportContract option "resumesFromPublisherIds" must be a boolean, got "yes"',
    )
  })

  test('one whose unfollow() stops reading a topic another follow still holds fails that check', async () => {
    const checks = transportContract(
      following((refs) => ({
        unfollow(topics) {
          for (const topic of topics) refs.delete(topic)
        },
      })),
    )
    expect(await outcomes(checks, 'while any follow() holds it')).toEqual(['failed'])
  })

  test('one whose follow() never settles fails the checks, within the timeout', async () => {
    const checks = transportContract(following(() => ({ follow: () => new Promise(() => {}) })))
    expect(await outcomes(checks, 'follow() with a lastEventId')).toEqual(['failed'])
    expect(await outcomes(checks, 'exactly once')).toEqual(['failed'])
  })

  test('one whose follow() rejects an id it cannot read fails that check', async () => {
    const checks = transportContract(
      following((refs) => ({
        follow(topics, lastEventId) {
          if (lastEventId !== undefined && !/^\d+$/.test(lastEventId)) {
            return Promise.reject(new Error(`bad id ${lastEventId}`))
          }
          for (const topic of topics) refs.set(topic, (refs.get(topic) ?? 0) + 1)
        },
      })),
    )
    expect(await outcomes(checks, 'follow() with a lastEventId')).toEqual([expect.any(Error)])
  })
})

describe('a MemoryTransport that delivers only the topics followed meets the contract', () => {
  for (const check of transportContract(following())) test(check.name, check.run)
})
