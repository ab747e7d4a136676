import { Socket } from 'node:net'
import { expect, test } from 'vitest'
import { onConnectionClose } from '../src/connectionClose.js'

test('requests waiting on one connection share one close listener, taken off when the last stops waiting', () => {
  const connection = new Socket()
  const left: number[] = []
  const forget = Array.from({ length: 20 }, (_, i) =>
    onConnectionClose(connection, () => left.push(i)),
  )
  expect(connection.listenerCount('close')).toBe(1)
  for (const stop of forget.slice(0, 19)) stop()
  expect(connection.listenerCount('close')).toBe(1)
  // A keep-alive connection whose requests all ended holds nothing of them.
  forget[19]!()
  expect(connection.listenerCount('close')).toBe(0)
  expect(left).toEqual([])
})

test('a connection that closes tells every request still waiting, once, and later ones start afresh', () => {
  const connection = new Socket()
  const left: string[] = []
  const stopA = onConnectionClose(connection, () => left.push('a'))
  onConnectionClose(connection, () => left.push('b'))
  stopA()
  connection.emit('close', false)
  connection.emit('close', false)
  expect(left).toEqual(['b'])
  const stopC = onConnectionClose(connection, () => left.push('c'))
  expect(connection.listenerCount('close')).toBe(1)
  stopC()
  expect(connection.listenerCount('close')).toBe(0)
})
