import type { SSEEvent } from '@sse/core'

/** What a feature renders whole for one of its topics. */
type TopicSnapshot = (topic: string) => readonly SSEEvent[]

/**
 * The last event of every snapshot. It carries the cursor (the broker puts the id on the last
 * event), and every page's stream element listens to it (`hx-trigger="sse:snapshot"` on htmx 2;
 * htmx 4 hands every event to its listeners), so `sse-resume.js` records that id even on a page
 * that shows none of the views above it.
 */
export const SNAPSHOT_END: SSEEvent = { event: 'snapshot', data: 'complete' }

/**
 * The whole state behind each topic, as events: what a page gets on its stream, instead of
 * `sse-reset`, when it comes back with an id the broker cannot resume from (a restart, history
 * evicted, a replay over the cap). Each feature registers the topics it renders, next to the page
 * that renders them the first time, so the first render and the snapshot cannot drift apart.
 *
 * One topic may feed several views (`notifications` feeds the notes list and the dashboard's feed),
 * so a feature sends one event per view, named after it. A page listens only to the views it has:
 * the others are events nobody listens to, which `EventSource` drops without a trace.
 */
export class PageSnapshots {
  readonly #entries: Array<{ matches: (topic: string) => boolean; render: TopicSnapshot }> = []

  /** Registers how to render `topic`, or every topic `matches` accepts (e.g. every game), whole. */
  add(topic: string | ((topic: string) => boolean), render: TopicSnapshot): void {
    this.#entries.push({
      matches: typeof topic === 'string' ? (candidate) => candidate === topic : topic,
      render,
    })
  }

  /**
   * The snapshot of a page's topics, in the order asked, then {@link SNAPSHOT_END}. Reads the
   * stores synchronously: the broker holds live events meanwhile and sends only the later ones.
   */
  of(topics: readonly string[]): SSEEvent[] {
    const events: SSEEvent[] = []
    for (const topic of topics) {
      for (const entry of this.#entries) {
        if (entry.matches(topic)) events.push(...entry.render(topic))
      }
    }
    events.push(SNAPSHOT_END)
    return events
  }
}
