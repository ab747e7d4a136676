import type { FastifyInstance } from 'fastify'
import { parseTopics } from '../topics.js'
import type { GameStore } from './gameStore.js'

/**
 * `/events?topics=a,b`: the one stream of an htmx 2 page, carrying every topic the page needs.
 * Topics are checked against the allow-list before the stream opens. After a reconnect the stream
 * first replays what the page missed, from the `Last-Event-ID` header (the browser's own
 * reconnect) or the `lastEventId` query parameter (htmx-ext-sse's new EventSource).
 */
export async function events(
  app: FastifyInstance,
  options: { retryMs: number; games: GameStore },
): Promise<void> {
  app.get<{ Querystring: { topics?: string } }>('/events', (request, reply) => {
    const parsed = parseTopics(request.query.topics)
    if ('error' in parsed) {
      reply.code(400).type('text/plain; charset=utf-8').send(parsed.error)
      return
    }
    // Only games that exist: a made-up game must not hold a subscription (or, once published, history).
    const unknown = parsed.topics.find(
      (topic) => topic.startsWith('game:') && !options.games.has(topic.slice('game:'.length)),
    )
    if (unknown !== undefined) {
      reply.code(404).type('text/plain; charset=utf-8').send('No such game.')
      return
    }
    reply.sse({ topics: parsed.topics, retry: options.retryMs })
  })
}
