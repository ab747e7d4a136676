/**
 * The topics a page may ask for on `/events?topics=...`. A page names the topics it needs in its
 * one `sse-connect` URL, so the server must not trust that list: anything outside this allow-list
 * is refused with 400 before a stream opens.
 */
const TOPIC = /^(?:system|notifications|logs|htmx4:notifications|game:[a-z0-9-]{1,32})$/

/** Topics one connection may carry at most. */
export const MAX_TOPICS = 8

/** Ids of games (`/games/:id`), jobs and chat replies: short, URL-safe, usable in a topic name. */
export const ID_PATTERN = /^[a-z0-9-]{1,32}$/

/**
 * Parses the comma-separated `topics` query parameter. Returns the topics, or an error message
 * naming the offending topic.
 */
export function parseTopics(value: unknown): { topics: string[] } | { error: string } {
  if (typeof value !== 'string' || value.length === 0) {
    return { error: 'Ask for at least one topic: /events?topics=system,notifications' }
  }
  const topics = [...new Set(value.split(',').map((topic) => topic.trim()))]
  if (topics.length > MAX_TOPICS) return { error: `At most ${MAX_TOPICS} topics per connection.` }
  const bad = topics.find((topic) => !TOPIC.test(topic))
  if (bad !== undefined) return { error: `Unknown topic ${JSON.stringify(bad)}.` }
  return { topics }
}

/** The topic of one game's scoreboard. */
export function gameTopic(id: string): string {
  return `game:${id}`
}
