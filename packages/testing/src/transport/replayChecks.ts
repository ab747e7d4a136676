import assert from 'node:assert/strict'
import type { Delivery, Transport } from '@sse/core/kit'
import type { ContractCheck, DefineCheck } from './contractCheck.js'
import { expectEvents, expectResets, frameFor } from './contractSession.js'

/** Ids no transport can resume from: the broker's marker for an unusable Last-Event-ID, and worse. */
const NOT_IDS = ['\u0000unusable', 'x'.repeat(300), '']

/** A transport factory that keeps only `historySize` events per topic. */
export interface SmallHistory {
  readonly historySize: number
  create(): Transport | Promise<Transport>
}

/**
 * The checks of replay: exactly the events after an id, in id order, within the limits; else a
 * reset whose `headId` resumes. With `small`, also the check of an id older than the history.
 */
export function replayChecks(check: DefineCheck, small: SmallHistory | undefined): ContractCheck[] {
  return [
    check(
      'orders ids across topics: a replay of several topics returns their events in publish order, whatever order the topics are asked in',
      async (open) => {
        const s = await open()
        const start = await s.publish(['start'])
        const events: Delivery[] = []
        for (const topic of ['a', 'b', 'c', 'b', 'a']) events.push(await s.publish([topic]))
        await expectEvents(s, ['a', 'b', 'c'], start.id, events)
        await expectEvents(s, ['c', 'b', 'a'], start.id, events)
      },
    ),
    check(
      'replays exactly the events after an id on the requested topics, in id order, an event on several of them once, with the frame their subscribers get',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        const a = await s.publish(['a'])
        const b = await s.publish(['b'])
        const ab = await s.publish(['a', 'b'])
        const c = await s.publish(['c'])
        const bc = await s.publish(['b', 'c'], true)
        await expectEvents(s, ['a', 'b'], start.id, [a, b, ab, bc])
        await expectEvents(s, ['c'], start.id, [c, bc])
        await expectEvents(s, ['c', 'b'], b.id, [ab, c, bc])
        await expectEvents(s, ['a'], ab.id, [])
        await expectEvents(s, ['never-published'], start.id, [])
      },
    ),
    check('replay from the newest id answers no events, not a reset', async (open) => {
      const s = await open()
      await s.publish(['a'])
      const newest = await s.publish(['b'])
      await expectEvents(s, ['a', 'b'], newest.id, [])
      await expectEvents(s, ['a'], newest.id, [])
    }),
    check(
      'cursor() once started is an id to resume from: a replay from it answers no events, then exactly those published after it',
      async (open) => {
        const s = await open()
        const empty = s.transport.cursor()
        if (empty === undefined) assert.fail('cursor() answered undefined once start() settled')
        const first = await s.publish(['a'])
        const now = s.transport.cursor()
        if (now === undefined) assert.fail('cursor() answered undefined after a delivery')
        await expectEvents(s, ['a'], empty, [first])
        await expectEvents(s, ['a'], now, [])
        const next = await s.publish(['b', 'a'])
        await expectEvents(s, ['a', 'b'], now, [next])
      },
    ),
    check(
      'an id that is no id at all ("\\u0000unusable", 300 × "x", "") answers a reset whose headId resumes, before and after anything was published',
      async (open) => {
        const s = await open()
        const cases = NOT_IDS.map((id) => ({ lastEventId: id }))
        await expectResets(s, ['a'], cases, 'before any publish')
        await s.publish(['b'])
        await expectResets(s, ['a', 'b'], cases, 'after publishing')
      },
    ),
    check(
      'an id this transport never issued (the newest of another, isolated instance) answers a reset whose headId resumes, before and after anything was published',
      async (open) => {
        const s = await open()
        const other = await open()
        let foreign = (await other.publish(['a'])).id
        await expectResets(s, ['a'], [{ lastEventId: foreign }], 'before any publish')
        await s.publish(['a'])
        // More events than `s` ever published, so that ids made of a counter or a clock pass its own.
        for (let i = 0; i <= s.published; i++) foreign = (await other.publish(['a'])).id
        await expectResets(s, ['a'], [{ lastEventId: foreign }], 'after publishing')
      },
    ),
    ...(small === undefined
      ? []
      : [
          check(
            `an id older than the history (historySize ${small.historySize}) answers a reset whose headId resumes; the id just before the history replays it whole`,
            async (open) => {
              const s = await open(small.create)
              const events: Delivery[] = []
              for (let i = 0; i < small.historySize + 2; i++) events.push(await s.publish(['a']))
              await expectEvents(s, ['a'], events[1]!.id, events.slice(2))
              await expectResets(s, ['a'], [{ lastEventId: events[0]!.id }])
            },
          ),
        ]),
    check(
      'a replay over limits.maxEvents or limits.maxBytes answers a reset with capped: true whose headId resumes; one exactly at both limits is replayed whole',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        const events = [await s.publish(['a'])]
        await s.publish(['other']) // not replayed, so not counted
        // Only the frame written for 'a' counts, not the longer one of 'a-longer-topic'.
        events.push(await s.publish(['a-longer-topic', 'a'], true), await s.publish(['a']))
        const bytes = events.reduce((sum, event) => sum + frameFor(event, ['a']).length, 0)
        const exact = { maxEvents: events.length, maxBytes: bytes }
        await expectEvents(s, ['a'], start.id, events, exact)
        await expectResets(
          s,
          ['a'],
          [
            {
              lastEventId: start.id,
              limits: { ...exact, maxEvents: events.length - 1 },
              capped: true,
            },
            { lastEventId: start.id, limits: { ...exact, maxBytes: bytes - 1 }, capped: true },
          ],
        )
      },
    ),
  ]
}
