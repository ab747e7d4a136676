import assert from 'node:assert/strict'
import type { ContractCheck, DefineCheck } from './contractCheck.js'
import { expectEvents, expectResets, frameFor, show } from './contractSession.js'

/** The checks of keyed events: the key reaches the sink, and replays are log-compacted by it. */
export function conflationChecks(check: DefineCheck): ContractCheck[] {
  return [
    check(
      'hands the conflation key given at publish to the sink with its event (Delivery.key), and none with an unkeyed event',
      async (open) => {
        const s = await open()
        const keyed = await s.publish(['a'], false, 'cpu')
        const multi = await s.publish(['a', 'b'], true, 'price:ACME ✓')
        const plain = await s.publish(['a'])
        assert.equal(keyed.key, 'cpu', `the key delivered with ${show(keyed.id)}`)
        assert.equal(multi.key, 'price:ACME ✓', `the key delivered with ${show(multi.id)}`)
        assert.equal(plain.key, undefined, `the key delivered with unkeyed ${show(plain.id)}`)
      },
    ),
    check(
      'replays keyed events log-compacted: of those after the id with the same key and topic (the first of theirs asked for) only the newest, every unkeyed one, in id order',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        const cpu1 = await s.publish(['a'], false, 'cpu')
        const plain1 = await s.publish(['a'])
        const cpu2 = await s.publish(['a'], false, 'cpu')
        const memory = await s.publish(['a'], false, 'memory')
        const cpuOnB = await s.publish(['b'], false, 'cpu') // another topic: another thing
        const cpu3 = await s.publish(['a'], false, 'cpu')
        const plain2 = await s.publish(['a'])
        await expectEvents(s, ['a', 'b'], start.id, [plain1, memory, cpuOnB, cpu3, plain2])
        await expectEvents(s, ['a'], cpu1.id, [plain1, memory, cpu3, plain2])
        await expectEvents(s, ['a'], cpu2.id, [memory, cpu3, plain2])
        await expectEvents(s, ['a'], cpu3.id, [plain2])
        // Written for 'b' to a client of both topics, it is the newest 'cpu' of 'b', not of 'a'.
        const both = await s.publish(['b', 'a'], true, 'cpu')
        await expectEvents(s, ['a', 'b'], start.id, [plain1, memory, cpu3, plain2, both])
        await expectEvents(s, ['a'], start.id, [plain1, memory, plain2, both])
      },
    ),
    check(
      'applies limits to the compacted replay: ten updates of one key replay as one event under maxEvents 1; two keys over it answer a capped reset',
      async (open) => {
        const s = await open()
        const start = await s.publish(['a'])
        let newest = start
        for (let i = 0; i < 10; i++) newest = await s.publish(['a'], false, 'cpu')
        const one = { maxEvents: 1, maxBytes: frameFor(newest, ['a']).length }
        await expectEvents(s, ['a'], start.id, [newest], one)
        await s.publish(['a'], false, 'memory')
        await expectResets(s, ['a'], [{ lastEventId: start.id, limits: one, capped: true }])
      },
    ),
  ]
}
