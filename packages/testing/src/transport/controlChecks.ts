import assert from 'node:assert/strict'
import type { ControlMessage, Transport } from '@sse/core/kit'
import type { ContractCheck } from './contractCheck.js'
import { runCheck, show } from './contractSession.js'

/** Two transports that share their events, not started (for Redis: the same key prefix). */
export type CreatePeers = () =>
  | readonly [Transport, Transport]
  | Promise<readonly [Transport, Transport]>

/**
 * The checks of {@link Transport.sendControl}, for transports that implement it: run between two
 * instances from `createPeers`. A transport without `sendControl` passes them (it has no control
 * channel; the broker then acts on its own instance only).
 */
export function controlChecks(createPeers: CreatePeers, timeout: number): ContractCheck[] {
  return [
    {
      name: 'sendControl(), where implemented, hands each message to the other instance’s sink.control once, as sent, never to the sender’s, and keeps nothing: no event, no id, nothing to replay',
      run: async () => {
        let peers: readonly [Transport, Transport] | undefined
        const peer = async (index: 0 | 1) => {
          peers ??= await createPeers()
          return peers[index]
        }
        await runCheck(
          async (open) => {
            const a = await open(() => peer(0))
            const b = await open(() => peer(1))
            const sendA = a.transport.sendControl?.bind(a.transport)
            const sendB = b.transport.sendControl?.bind(b.transport)
            if (sendA === undefined || sendB === undefined) return
            const cursors = [a.transport.cursor(), b.transport.cursor()]
            const sent: ControlMessage[] = [
              { type: 'disconnect', tags: ['user:1'] },
              {
                type: 'disconnect',
                tags: ['session:ü ✓', 'user:2'],
                frame: 'event: signed-out\ndata: <p>À bientôt ✓</p>\n\n',
              },
            ]
            for (const message of sent) await sendA(message)
            await b.sink.controlled(sent.length)
            assert.deepEqual(b.sink.controls, sent, 'the control messages the other instance got')
            // An answer from b travels after a's messages: had a's own come back, they came first.
            const answer: ControlMessage = { type: 'disconnect', tags: ['answer'] }
            await sendB(answer)
            await a.sink.controlled(1)
            assert.deepEqual(a.sink.controls, [answer], 'the control messages the sender got')
            for (const [i, s] of [a, b].entries()) {
              const what = i === 0 ? 'the sender' : 'the other instance'
              assert.deepEqual(s.sink.deliveries, [], `events delivered to ${what}`)
              assert.equal(s.transport.cursor(), cursors[i], `cursor() of ${what}`)
              const from = cursors[i]
              if (from === undefined) continue
              const replayed = await s.replay(['user:1', 'answer'], from)
              const events = replayed.reset ? show(replayed) : show(replayed.deliveries)
              assert.ok(!replayed.reset && replayed.deliveries.length === 0, `replay: ${events}`)
            }
          },
          () => peer(0),
          timeout,
        )
      },
    },
  ]
}
