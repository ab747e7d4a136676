import { describe, expect, test } from 'vitest'
import { type HeldFrame, handOff } from '../src/history/replayHandoff.js'
import type { Delivery, ReplayLimits, ReplayResult } from '../src/types.js'

const NO_LIMITS: ReplayLimits = {
  maxEvents: Number.MAX_SAFE_INTEGER,
  maxBytes: Number.MAX_SAFE_INTEGER,
}

function delivery(id: string, data = id): Delivery {
  return { id, topics: ['t'], frames: [Buffer.from(`id: ${id}\ndata: ${data}\n\n`)] }
}
function held(id: string): HeldFrame {
  return { id, frame: delivery(id).frames[0]! }
}
const frameOf = (d: Delivery) => d.frames[0]!
const text = (frames: readonly Buffer[]) => frames.map((f) => f.toString()).join('')
const replayOf = (...ids: string[]): ReplayResult => ({
  reset: false,
  deliveries: ids.map((id) => delivery(id)),
})

describe('the replay hand-off', () => {
  test('writes the replay, then the live events held meanwhile, in order', () => {
    const plan = handOff(replayOf('2', '3'), [held('4'), held('5')], '1', frameOf, NO_LIMITS)
    expect(text(plan.replay)).toBe(text([delivery('2').frames[0]!, delivery('3').frames[0]!]))
    expect(plan.reset).toBeUndefined()
    expect(text(plan.live)).toBe(text([held('4').frame, held('5').frame]))
  })

  test('leaves out held events the replay carries too: nothing arrives twice', () => {
    const plan = handOff(
      replayOf('2', '3', '4'),
      [held('3'), held('4'), held('5')],
      '1',
      frameOf,
      NO_LIMITS,
    )
    expect(plan.replay).toHaveLength(3)
    expect(text(plan.live)).toBe(text([held('5').frame]))
  })

  test('leaves out held events up to the client’s own last id (an instance that delivers later)', () => {
    const plan = handOff(replayOf(), [held('7'), held('8'), held('9')], '8', frameOf, NO_LIMITS)
    expect(plan.replay).toHaveLength(0)
    expect(text(plan.live)).toBe(text([held('9').frame]))
  })

  test('keeps every held event when the client’s id is not among them', () => {
    const plan = handOff(replayOf(), [held('7'), held('8')], '3', frameOf, NO_LIMITS)
    expect(plan.live).toHaveLength(2)
  })

  test('a transport reset becomes the reset cursor, and every held event still follows', () => {
    const plan = handOff({ reset: true, headId: '6' }, [held('7')], 'gone', frameOf, NO_LIMITS)
    expect(plan.reset).toEqual({ headId: '6', capped: false })
    expect(plan.replay).toHaveLength(0)
    expect(text(plan.live)).toBe(text([held('7').frame]))
  })

  test('a reset the transport marks capped stays capped', () => {
    const plan = handOff({ reset: true, headId: '6', capped: true }, [], '1', frameOf, NO_LIMITS)
    expect(plan.reset).toEqual({ headId: '6', capped: true })
  })

  test('a replay over maxEvents becomes a capped reset at its last event, held events after it following', () => {
    const plan = handOff(replayOf('2', '3', '4'), [held('4'), held('5')], '1', frameOf, {
      maxEvents: 2,
      maxBytes: Number.MAX_SAFE_INTEGER,
    })
    expect(plan.reset).toEqual({ headId: '4', capped: true })
    expect(plan.replay).toHaveLength(0)
    expect(text(plan.live)).toBe(text([held('5').frame]))
  })

  test('a replay over maxBytes becomes a capped reset; one exactly at the cap is replayed', () => {
    const size = delivery('2').frames[0]!.length + delivery('3').frames[0]!.length
    const over = handOff(replayOf('2', '3'), [], '1', frameOf, {
      maxEvents: 10,
      maxBytes: size - 1,
    })
    expect(over.reset).toEqual({ headId: '3', capped: true })
    const exact = handOff(replayOf('2', '3'), [], '1', frameOf, { maxEvents: 10, maxBytes: size })
    expect(exact.reset).toBeUndefined()
    expect(exact.replay).toHaveLength(2)
  })

  test('nothing to replay and nothing held is an empty plan', () => {
    expect(handOff(replayOf(), [], '1', frameOf, NO_LIMITS)).toEqual({
      replay: [],
      reset: undefined,
      live: [],
    })
  })
})
