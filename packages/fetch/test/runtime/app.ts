/**
 * The app every runtime serves in the runtime tests: a Hono app on `@sse/fetch`, started by
 * `serve.ts` under Node (`@hono/node-server`), Bun (`Bun.serve`) and Deno (`Deno.serve`). Its
 * routes drive the broker from the test process: publish, bursts, revocation, stats.
 */
import { createSSE, type FetchStreamOptions } from '@sse/fetch'
import { redisTransport } from '@sse/redis'
import { authorizeVerdicts } from '@sse/testkit/verdicts'
import { Hono } from 'hono'

/** How the test process sets the app up: `SSE_OPTIONS`, JSON. */
export interface RuntimeAppOptions {
  keepAlive?: number
  maxConnections?: number
  maxBufferedBytes?: number
  historySize?: number
  maxDuration?: number
  /** Events travel through this Redis (`@sse/redis`) instead of the in-memory transport. */
  redisUrl?: string
  /**
   * Streams get the option `node: c.env`: on Node (`@hono/node-server`) they write to Node's
   * response directly; Bun's and Deno's `c.env` hold no Node objects, and change nothing there.
   */
  nodeBindings?: boolean
}

export function runtimeApp(options: RuntimeAppOptions) {
  const errors: string[] = []
  let handled = 0
  const sse = createSSE({
    ...(options.keepAlive === undefined ? {} : { keepAlive: options.keepAlive }),
    maxConnections: options.maxConnections ?? 50,
    maxBufferedBytes: options.maxBufferedBytes ?? 256 * 1024,
    ...(options.redisUrl === undefined
      ? { historySize: options.historySize ?? 1000 }
      : { transport: redisTransport({ url: options.redisUrl }) }),
    ...(options.maxDuration === undefined
      ? {}
      : { maxDuration: options.maxDuration, maxDurationJitter: 0 }),
    // `?verdict=<i>` answers with the i-th of the conformance verdicts (`&async` from a promise).
    authorize: (request, topics) => {
      const query = new URL(request.url).searchParams
      const verdict = authorizeVerdicts[Number(query.get('verdict') ?? 'NaN')]?.verdict
      if (verdict !== undefined) {
        // Verdicts that are no verdict at all are the point: the hook's type is what the app declares.
        return (query.has('async') ? Promise.resolve().then(verdict) : verdict()) as boolean
      }
      return !topics.includes('secret') || request.headers.get('x-token') === 'letmein'
    },
    onError: (error) => {
      errors.push(error.code)
    },
  })
  const app = new Hono()
  const bindings = (env: unknown): FetchStreamOptions =>
    options.nodeBindings === true ? { node: env as object } : {}

  app.on(['GET', 'HEAD'], '/events', (c) => {
    handled++
    const topics = c.req.query('topics')?.split(',') ?? ['t']
    const options: FetchStreamOptions = { topics, ...bindings(c.env) }
    const name = c.req.query('name')
    if (name !== undefined) options.headers = { 'x-name': name }
    const tag = c.req.query('tag')
    if (tag !== undefined) options.tags = [tag]
    if (c.req.query('snapshot') !== undefined) {
      options.snapshot = ({ request, cursor }) => [
        { event: 'snapshot', data: `${new URL(request.url).pathname} ${topics.join(',')}` },
        { event: 'snapshot-end', data: 'ok', ...(cursor !== undefined && { id: cursor }) },
      ]
    }
    return sse.response(c.req.raw, options)
  })

  app.get('/count', (c) => {
    const upTo = Number(c.req.query('to') ?? '3')
    async function* counting() {
      for (let i = 1; i <= upTo; i++) yield { event: 'n', data: String(i) }
    }
    return sse.response(c.req.raw, counting(), bindings(c.env))
  })

  // Publishes `count` events of `size` bytes in one turn (keyed when `keys` is given), or one per
  // event-loop turn with `turns`.
  app.post('/publish', async (c) => {
    const topic = c.req.query('topic') ?? 't'
    const count = Number(c.req.query('count') ?? '1')
    const size = Number(c.req.query('size') ?? '0')
    const keys = Number(c.req.query('keys') ?? '0')
    const turns = c.req.query('turns') !== undefined
    const pad = 'x'.repeat(size)
    const published: Promise<string>[] = []
    for (let i = 0; i < count; i++) {
      if (turns && i > 0) await new Promise((resolve) => setTimeout(resolve, 0))
      const data = `${i}${pad}`
      published.push(
        keys > 0
          ? sse.broker.publish(topic, { event: 'k', data }, { key: `k${i % keys}` })
          : sse.broker.publish(topic, { data }),
      )
    }
    const ids = await Promise.all(published)
    return c.json({ ids })
  })

  app.post('/revoke', async (c) => {
    const tag = c.req.query('tag') ?? ''
    return c.json({ ended: await sse.broker.disconnect({ tags: [tag] }) })
  })

  app.get('/stats', (c) =>
    c.json({
      ...sse.broker.stats(),
      subscribers: sse.broker.subscribers(c.req.query('topic') ?? 't'),
      handled,
      errors,
    }),
  )

  app.post('/close', async (c) => {
    await sse.close({ event: { event: 'bye', data: 'closing' } })
    return c.body(null, 204)
  })

  return app
}
