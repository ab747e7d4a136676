import type { FastifyInstance } from 'fastify'
import type { PageSnapshots } from '../pageSnapshots.js'
import { parseTopics } from '../topics.js'
import type { GameStore } from './gameStore.js'

/**
 * `/events?topics=a,b&lastEventId=<cursor>`: the one stream of a page, carrying every topic the
 * page needs. Topics are checked against the allow-list before the stream opens.
 *
 * The stream starts after the id the page came with: the `Last-Event-ID` header (the browser's
 * own reconnect), else `lastEventId` in the URL (the cursor the page was rendered with, kept
 * current by `sse-resume.js` for htmx-ext-sse's new EventSource). When the broker cannot resume
 * from that id, the page gets the snapshot of its topics instead of `sse-reset`: its whole state,
 * then the live events after it, none missed and none twice.
 *
 * Each stream is tagged `topic:<name>` for each of its topics, so an operator can end every stream
 * of a topic at once (`broker.disconnect({ tag: 'topic:logs' })`): the pages reconnect and resume.
 */
export async function events(
  app: FastifyInstance,
  options: { retryMs: number; games: GameStore; snapshots: PageSnapshots },
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
    reply.sse({
      topics: parsed.topics,
      retry: options.retryMs,
      tags: parsed.topics.map((topic) => `topic:${topic}`),
      snapshot: ({ topics }) => options.snapshots.of(topics),
    })
  })
}
