import assert from 'node:assert/strict'
import type { ContractCheck, DefineCheck } from './contractCheck.js'
import { describe, ids, show } from './contractSession.js'

/** The checks of live delivery: each event once, in id order, with its exact frames. */
export function deliveryChecks(check: DefineCheck): ContractCheck[] {
  return [
    check(
      'delivers every published event to the sink exactly once, in publish order, under the id publish resolved to',
      async (open) => {
        const s = await open()
        const published: string[] = []
        const messages = [
          [['a']],
          [['b']],
          [['a', 'b']],
          [['c', 'a'], true],
          [['c'], true],
        ] as const
        for (const [topics, perTopic] of messages)
          published.push(await s.send(s.message(topics, perTopic)))
        assert.equal(
          new Set(published).size,
          published.length,
          `publish resolved to repeated ids: ${show(published)}`,
        )
        // Everything before the fence in id order has arrived, and a duplicate delivered meanwhile shows.
        const fence = await s.send(s.message(['fence']))
        await s.sink.delivered(fence)
        const got = s.sink.deliveries.map((delivery) => delivery.id)
        assert.deepEqual(got, [...published, fence], 'the ids delivered to the sink, in order')
      },
    ),
    check(
      'delivers events published concurrently in id order: the order a replay returns them',
      async (open) => {
        const s = await open()
        const start = await s.publish(['start'])
        const topics = ['a', 'b', 'c']
        // Each topic alone and with the next one, three times over: 18 publishes in flight at once.
        const sent = topics.flatMap((topic, i) => [[topic], [topic, topics[(i + 1) % 3]!]])
        sent.push(...sent, ...sent)
        const published = await Promise.all(sent.map((to) => s.send(s.message(to))))
        for (const id of published) await s.sink.delivered(id)
        const live = ids(s.sink.deliveries.slice(1))
        assert.deepEqual([...live].sort(), [...published].sort(), 'the ids delivered, each once')
        const replayed = await s.replay(topics, start.id)
        if (replayed.reset) assert.fail(`the replay of all topics answered ${describe(replayed)}`)
        assert.deepEqual(live, ids(replayed.deliveries), 'the live order against the replay order')
      },
    ),
    check(
      'writes each frame as "id: <id>\\n" and the body given: one frame per topic when a body is given per topic, else one shared frame',
      async (open) => {
        const s = await open()
        for (const [topics, perTopic] of [
          [['a']],
          [['a', 'b']],
          [['a', 'b'], true],
          [['c', 'a', 'b'], true],
        ] as const) {
          const message = s.message(topics, perTopic)
          const id = await s.send(message)
          const { topics: delivered, frames } = await s.sink.delivered(id)
          assert.deepEqual(delivered, topics, `the topics delivered with ${show(id)}`)
          const expected = message.bodies.map((body) => `id: ${id}\n${body}`)
          assert.deepEqual(frames.map(String), expected, `the frames of ${show(id)}`)
        }
      },
    ),
  ]
}
