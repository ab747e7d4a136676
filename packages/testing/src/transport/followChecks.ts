import assert from 'node:assert/strict'
import type { ContractCheck, DefineCheck } from './contractCheck.js'
import { ids, within } from './contractSession.js'

/** Ids no transport can resume from, as a hostile client sends them in `Last-Event-ID`. */
const NOT_IDS = ['\u0000unusable', 'x'.repeat(300), '', '~zz.0-0', '99999999999999-0']

/**
 * The checks of {@link Transport.follow} and `unfollow`, for transports that read only what the
 * instance's streams want; a transport without `follow` passes them as is. (Every other check
 * follows the topics it publishes to and replays, as the broker's streams would.)
 */
export function followChecks(check: DefineCheck, timeout: number): ContractCheck[] {
  return [
    check(
      'follow(), where implemented, settles once its topics are read: an event published on them right after reaches the sink, and one published before it, when no stream wanted the topic, replays from a cursor taken earlier',
      async (open) => {
        const s = await open()
        if (s.transport.follow === undefined) return
        await s.publish(['a'])
        const cursor = s.transport.cursor()
        if (cursor === undefined) assert.fail('cursor() answered undefined after a delivery')
        const unwanted = await s.send(s.message(['x']), false)
        // As a stream resuming from the cursor would: follow(['x'], cursor), then replay.
        const result = await s.replay(['x'], cursor)
        if (result.reset) assert.fail(`the replay of "x" from the cursor answered a reset`)
        assert.deepEqual(ids(result.deliveries), [unwanted], 'the ids replayed from the cursor')
        await s.publish(['x'])
      },
    ),
    check(
      'a topic stays read while any follow() holds it: after one of two streams on it unfollows, its events still reach the sink; once every stream unfollowed and one follows again, they reach it again',
      async (open) => {
        const s = await open()
        if (s.transport.follow === undefined) return
        const one = ['a'] as const
        const two = ['a', 'b'] as const
        await s.follow(one)
        await s.follow(two)
        s.unfollow(two)
        await s.publish(['a'])
        s.unfollow(one)
        // Nothing holds 'a' or 'b' now: publish() follows them again, as a new stream would.
        assert.equal(s.following('a') || s.following('b'), false, 'a follow still held')
        await s.publish(['b'])
        await s.publish(['a', 'b'])
      },
    ),
    check(
      'follow() with a lastEventId that is no id ("\\u0000unusable", 300 × "x", "", and made-up ids shaped like a cursor or a stream id) resolves, unfollow() of topics never followed does nothing, and delivery goes on',
      async (open) => {
        const s = await open()
        if (s.transport.follow === undefined) return
        for (const id of NOT_IDS) await s.follow(['a'], id)
        s.transport.unfollow?.(['never-followed'])
        s.transport.unfollow?.([])
        await s.publish(['a'])
        await s.publish(['never-followed'])
      },
    ),
    check(
      'follow() on a closed transport settles (resolving or rejecting) and unfollow() after close does not throw',
      async (open) => {
        const s = await open()
        if (s.transport.follow === undefined) return
        await s.publish(['a'])
        await s.close()
        const what = `follow(["b"]) after close()`
        await within(() => s.transport.follow!(['b'], undefined), timeout, what).catch(
          (error: unknown) => {
            if (error instanceof assert.AssertionError) throw error
          },
        )
        s.transport.unfollow?.(['b'])
      },
    ),
  ]
}
