import { html, refreshEvent, type SafeHtml, type SSEEvent, stateEvent } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { type PageStream, page, sendHtml, toasts } from '../layout.js'
import type { PageSnapshots } from '../pageSnapshots.js'
import { gameTopic } from '../topics.js'
import type { Game, GameStore } from './gameStore.js'

/** The scoreboard partial of refresh mode, fetched again on every `refresh-scoreboard` event. */
export function renderScoreboard(game: Game): SafeHtml {
  const side = (key: 'home' | 'away') =>
    html`<div class="team${game.last === key ? ' scored' : ''}"><span class="team-name">${game[key].name}</span><span class="team-score" data-team="${key}">${game[key].score}</span></div>`
  return html`<div class="scoreboard">${side('home')}<span class="versus">:</span>${side('away')}</div>`
}

/**
 * A game for a page that could not resume: the refresh-mode partial (`sse-swap="scoreboard"`) and
 * a `state` event, which the Alpine island merges like every live one.
 */
export function gameSnapshot(game: Game): SSEEvent[] {
  return [{ event: 'scoreboard', data: renderScoreboard(game) }, stateEvent(game)]
}

const NO_SUCH_GAME = 'No such game.'

function gamePage(game: Game, games: GameStore, stream: PageStream): SafeHtml {
  const { id } = game
  // Any other game, to show that its page sees none of this one's updates.
  const other = games.ids().find((otherId) => otherId !== id) ?? id
  // The Alpine island merges `state` events, live or from a snapshot: hx-trigger="sse:state" makes
  // htmx-ext-sse dispatch the event on this element, and x-on:sse:state hands its JSON over.
  const state = JSON.stringify(game)
  const side = (key: 'home' | 'away') =>
    html`<div class="team" x-bind:class="{ scored: last === '${key}' }"><span class="team-name" x-text="${key}.name">${game[key].name}</span><span class="team-score" data-team="${key}" x-text="${key}.score">${game[key].score}</span></div>`
  const body = html`<section class="intro">
      <h1>Game ${id}: ${game.home.name} vs ${game.away.name}</h1>
      <p>The score buttons publish to <code>${gameTopic(id)}</code> only. Open <a href="/games/${other}">game ${other}</a> in another tab: it sees none of these updates. Two ways to keep a section live, side by side:</p>
    </section>
    <section class="card buttons">
      <button hx-post="/games/${id}/score/home" hx-swap="none" data-score="home">+1 ${game.home.name}</button>
      <button hx-post="/games/${id}/score/away" hx-swap="none" data-score="away">+1 ${game.away.name}</button>
      <button class="ghost" hx-post="/games/${id}/score/reset" hx-swap="none" data-score="reset">Reset</button>
    </section>
    <div class="grid two">
      <section class="card mode" id="refresh-mode">
        <h2>Refresh mode</h2>
        <p class="muted small">The server publishes <code>refresh-scoreboard</code>; the section re-fetches its partial with <code>hx-trigger="sse:refresh-scoreboard"</code>. The HTML stays on the server.</p>
        <div id="scoreboard" hx-get="/games/${id}/scoreboard" hx-trigger="sse:refresh-scoreboard" sse-swap="scoreboard" hx-swap="innerHTML">${renderScoreboard(game)}</div>
      </section>
      <section class="card mode" id="state-mode" x-data="scoreboard(${state})" hx-trigger="sse:state" x-on:sse:state="merge($event.detail.data)">
        <h2>State mode</h2>
        <p class="muted small">The server publishes a JSON <code>state</code> event; an Alpine island merges it. No round trip, the client renders.</p>
        <div class="scoreboard">${side('home')}<span class="versus">:</span>${side('away')}</div>
      </section>
    </div>
    ${toasts()}`
  return page({ title: `Game ${id}`, section: 'games', stream, body, alpine: true })
}

/**
 * `/games/:id`: one scoreboard, two ways to keep it live. Every route answers 404 for a game id the
 * store does not have, and publishes nothing for it.
 */
export async function scoreboard(
  app: FastifyInstance,
  options: { games: GameStore; snapshots: PageSnapshots },
): Promise<void> {
  const { games } = options
  const [firstGame] = games.ids()
  options.snapshots.add(
    (topic) => topic.startsWith('game:'),
    (topic) => {
      const game = games.get(topic.slice('game:'.length))
      return game === undefined ? [] : gameSnapshot(game)
    },
  )

  app.get('/games', async (_request, reply) =>
    firstGame === undefined
      ? reply.code(404).send(NO_SUCH_GAME)
      : reply.redirect(`/games/${firstGame}`),
  )

  app.get<{ Params: { id: string } }>('/games/:id', async (request, reply) => {
    const game = games.get(request.params.id)
    if (game === undefined) return reply.code(404).send(NO_SUCH_GAME)
    // The cursor with the score rendered below: the stream starts right after it.
    const stream = {
      topics: [gameTopic(game.id), 'notifications'],
      cursor: request.broker.cursor(),
    }
    return sendHtml(reply, gamePage(game, games, stream))
  })

  app.get<{ Params: { id: string } }>('/games/:id/scoreboard', async (request, reply) => {
    const game = games.get(request.params.id)
    if (game === undefined) return reply.code(404).send(NO_SUCH_GAME)
    return sendHtml(reply, renderScoreboard(game))
  })

  app.get<{ Params: { id: string } }>('/games/:id/state', async (request, reply) => {
    const game = games.get(request.params.id)
    if (game === undefined) return reply.code(404).send({ error: NO_SUCH_GAME })
    return game
  })

  app.post<{ Params: { id: string; action: string } }>(
    '/games/:id/score/:action',
    async (request, reply) => {
      const { id, action } = request.params
      if (!games.has(id)) return reply.code(404).send(NO_SUCH_GAME)
      if (action !== 'home' && action !== 'away' && action !== 'reset') {
        return reply.code(400).send('Score "home", "away" or "reset".')
      }
      const game = action === 'reset' ? games.reset(id) : games.score(id, action)
      if (game === undefined) return reply.code(404).send(NO_SUCH_GAME)
      const topic = gameTopic(id)
      // Both modes: a refresh signal for the partial, and the state itself for the island. Both in
      // the tick that changed the game, so a page rendered with a cursor sees both or neither.
      await Promise.all([
        request.broker.publish(topic, refreshEvent('refresh-scoreboard')),
        request.broker.publish(topic, stateEvent(game)),
      ])
      return reply.code(204).send()
    },
  )
}
