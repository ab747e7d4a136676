import fastifyStatic from '@fastify/static'
import type { Broker } from '@sse/core'
import ssePlugin from '@sse/fastify'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { assetDirs } from './assets.js'
import { chat } from './features/chat.js'
import { dashboard } from './features/dashboard.js'
import { events } from './features/events.js'
import { GameStore } from './features/gameStore.js'
import { htmx4 } from './features/htmx4.js'
import { jobs } from './features/jobs.js'
import { LogFeed } from './features/logFeed.js'
import { isLogRate, logRateError } from './features/logPump.js'
import { checkStormCooldown } from './features/logStorm.js'
import { logTail } from './features/logTail.js'
import { NoteStore } from './features/noteStore.js'
import { notifications } from './features/notifications.js'
import { scoreboard } from './features/scoreboard.js'
import { PageSnapshots } from './pageSnapshots.js'

export interface DemoOptions {
  /**
   * A broker to use, e.g. one with the Redis transport, or one a test keeps alive across restarts.
   * It stays open when the app closes. Without it the app creates an in-memory broker and closes it.
   */
  broker?: Broker
  logger?: FastifyServerOptions['logger']
  /**
   * Fastify's option: `true` destroys every socket still open once `close()` has ended the
   * streams, like a process exit (a test's "restart"). @default Fastify's 'idle'
   */
  forceCloseConnections?: FastifyServerOptions['forceCloseConnections']
  /** Dashboard sampling and publishing interval. @default 1000 */
  dashboardIntervalMs?: number
  /** Duration of one step of a job. @default 400 */
  jobStepMs?: number
  /** Delay between two tokens of a streamed reply. @default 45 */
  tokenDelayMs?: number
  /** `retry:` hint of the page streams: how soon the browser reconnects after a drop. @default 1000 */
  retryMs?: number
  /** The notes, e.g. a store a test keeps across restarts. @default an empty store */
  notes?: NoteStore
  /** The games, e.g. a store a test keeps across restarts. @default the demo's five games */
  games?: GameStore
  /** The log tail's log, e.g. one a test keeps across restarts. @default a new log */
  logs?: LogFeed
  /** Lines per second the log tail's log starts at (1 to 5000; the page changes it). @default 20 */
  logRate?: number
  /** How often the log writes a batch, in ms. @default 25 */
  logTickMs?: number
  /** How long the log goes on after the last page watching it left, in ms. @default 5000 */
  logLingerMs?: number
  /** How long an error storm on the log tail blows, in ms: no other one starts meanwhile. @default 3000 */
  logStormCooldownMs?: number
}

/**
 * Options of the broker the app creates when none is passed in. The log tail page publishes up to
 * 5,000 lines/s (about 1.6 MB/s): a page that reconnects after a second or two must be able to
 * replay them (the default cap is 1 MiB per replay), and the log's history must fit next to the
 * other topics', which the default 32 MiB would drop whole, least recently published first.
 */
export const DEMO_BROKER_OPTIONS = {
  maxReplayBytes: 8 * 1024 * 1024,
  historyMaxBytes: 64 * 1024 * 1024,
} as const

/**
 * The demo app: every page, the `/events` endpoint and the assets. Call `listen()` on it, or
 * `inject()` in tests; `close()` stops the dashboard timer and ends every open stream.
 */
export function buildApp(options: DemoOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    ...(options.forceCloseConnections !== undefined && {
      forceCloseConnections: options.forceCloseConnections,
    }),
  })
  // Checked here rather than when the plugins load: a bad option fails the call that gave it.
  const logRate = options.logRate ?? 20
  if (!isLogRate(logRate)) throw logRateError(logRate)
  const stormCooldownMs = checkStormCooldown(options.logStormCooldownMs ?? 3000)
  const notes = options.notes ?? new NoteStore()
  const games = options.games ?? new GameStore()
  // Each feature registers how it renders its topics whole, for pages that cannot resume.
  const snapshots = new PageSnapshots()

  // Browser assets come from their npm packages, served locally: no CDN.
  app.register(fastifyStatic, { root: assetDirs.public, prefix: '/static/' })
  for (const [prefix, root] of [
    ['/vendor/htmx/', assetDirs.htmx],
    ['/vendor/htmx-ext-sse/', assetDirs.htmxExtSse],
    ['/vendor/htmx4/', assetDirs.htmx4],
    ['/vendor/alpinejs/', assetDirs.alpine],
    ['/vendor/sse/', assetDirs.sseResume],
  ] as const) {
    app.register(fastifyStatic, { root, prefix, decorateReply: false })
  }

  // htmx posts forms url-encoded; a few lines instead of another dependency.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16_384 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  )

  app.register(
    ssePlugin,
    options.broker === undefined ? DEMO_BROKER_OPTIONS : { broker: options.broker },
  )

  app.register(events, { retryMs: options.retryMs ?? 1000, games, snapshots })
  app.register(dashboard, { intervalMs: options.dashboardIntervalMs ?? 1000, notes, snapshots })
  app.register(notifications, { notes, snapshots })
  app.register(scoreboard, { games, snapshots })
  app.register(jobs, { stepMs: options.jobStepMs ?? 400 })
  app.register(chat, { tokenDelayMs: options.tokenDelayMs ?? 45 })
  app.register(htmx4, { notes, snapshots })
  app.register(logTail, {
    feed: options.logs ?? new LogFeed(),
    rate: logRate,
    tickMs: options.logTickMs ?? 25,
    lingerMs: options.logLingerMs ?? 5000,
    stormCooldownMs,
    snapshots,
  })
  return app
}
