import type { AddressInfo } from 'node:net'
import { createBroker, MemoryTransport } from '@sse/core'
import { openStream } from '@sse/testing'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { GameStore } from '../src/features/gameStore.js'

describe('the scoreboard accepts only games that exist', () => {
  let app: FastifyInstance | undefined

  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  async function listen(options: Parameters<typeof buildApp>[0] = {}): Promise<string> {
    app = buildApp(options)
    await app.listen({ port: 0, host: '127.0.0.1' })
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  }

  it('answers 404 to score POSTs for 1,000 made-up games and publishes nothing for them', async () => {
    const transport = new MemoryTransport()
    const broker = createBroker({ transport })
    const base = await listen({ broker })
    const before = broker.stats()

    const ids = Array.from({ length: 1000 }, (_, i) => `made-up-${i}`)
    for (let start = 0; start < ids.length; start += 50) {
      const statuses = await Promise.all(
        ids.slice(start, start + 50).map(async (id) => {
          const response = await fetch(`${base}/games/${id}/score/home`, { method: 'POST' })
          await response.arrayBuffer()
          return response.status
        }),
      )
      expect(new Set(statuses)).toEqual(new Set([404]))
    }

    expect(broker.stats()).toEqual(before)
    expect(transport.historyStats().topics).toBe(0)
    await broker.close()
  })

  it('answers 404 on every route of a game the store does not have', async () => {
    const base = await listen()
    for (const id of ['made-up', '0', '6', '999', 'NOPE']) {
      for (const path of [`/games/${id}`, `/games/${id}/scoreboard`, `/games/${id}/state`]) {
        expect((await fetch(base + path)).status, path).toBe(404)
      }
      for (const action of ['home', 'away', 'reset', 'own-goal']) {
        const response = await fetch(`${base}/games/${id}/score/${action}`, { method: 'POST' })
        expect(response.status, `${id} ${action}`).toBe(404)
      }
    }
    expect(app!.broker.stats().published).toBe(0)
  })

  it('still scores a real game and publishes its refresh and state events', async () => {
    const base = await listen()
    const response = await fetch(`${base}/games/2/score/away`, { method: 'POST' })
    expect(response.status).toBe(204)
    expect(app!.broker.stats().published).toBe(2)
    expect(await (await fetch(`${base}/games/2/state`)).json()).toMatchObject({
      id: '2',
      away: { score: 1 },
      last: 'away',
    })
    expect((await fetch(`${base}/games/2`)).status).toBe(200)
    expect((await fetch(`${base}/games/2/scoreboard`)).status).toBe(200)
  })

  it('holds a fixed set of games that lookups of unknown ids do not grow', () => {
    const games = new GameStore()
    const ids = games.ids()
    expect(ids).toEqual(['1', '2', '3', '4', '5'])
    for (let i = 0; i < 100; i++) {
      expect(games.get(`x${i}`)).toBeUndefined()
      expect(games.score(`x${i}`, 'home')).toBeUndefined()
      expect(games.reset(`x${i}`)).toBeUndefined()
    }
    expect(games.ids()).toEqual(ids)
  })

  it('refuses a stream for a made-up game with 404 and subscribes nothing; a real game streams', async () => {
    const broker = createBroker()
    const base = await listen({ broker })
    const refused = await openStream(`${base}/events?topics=game:made-up`)
    expect(refused.status).toBe(404)
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
    const stream = await openStream(`${base}/events?topics=game:1`)
    expect(stream.status).toBe(200)
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    await stream.close()
    await broker.close()
  })
})
