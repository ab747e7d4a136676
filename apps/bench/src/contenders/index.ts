import type { ContenderId } from '../protocol.js'
import type { StartContender } from './contender.js'

/** How each contender is started; each loads its library only when it runs. */
export const startContender: Record<ContenderId, StartContender> = {
  baseline: async () => (await import('./baseline.js')).startBaseline(),
  core: async (config) => (await import('./core.js')).startCore(config),
  fastify: async (config) => (await import('./fastifyAdapter.js')).startFastifyAdapter(config),
  express: async (config) => (await import('./expressAdapter.js')).startExpressAdapter(config),
  'better-sse': async () => (await import('./betterSse.js')).startBetterSse(),
  'fastify-sse': async () => (await import('./fastifySse.js')).startFastifySse(),
  'fastify-sse-v2': async () => (await import('./fastifySseV2.js')).startFastifySseV2(),
  'express-floor': async () => (await import('./frameworkFloors.js')).startExpressFloor(),
  'fastify-floor': async () => (await import('./frameworkFloors.js')).startFastifyFloor(),
  'core-response': async (config) =>
    (await import('./core.js')).startCore({ ...config, writePath: 'response' }),
  'fastify-response': async (config) =>
    (await import('./fastifyAdapter.js')).startFastifyAdapter({ ...config, writePath: 'response' }),
  'express-response': async (config) =>
    (await import('./expressAdapter.js')).startExpressAdapter({ ...config, writePath: 'response' }),
  fetch: async (config) => (await import('./fetchAdapter.js')).startFetchAdapter(config, 'node'),
  'fetch-web': async (config) =>
    (await import('./fetchAdapter.js')).startFetchAdapter(config, 'node', 'web'),
  'hono-sse': async () => (await import('./honoStreamSse.js')).startHonoStreamSse('node'),
  'hono-floor': async () => (await import('./honoFloor.js')).startHonoFloor(),
  'baseline-bun': async () => (await import('./bunBaseline.js')).startBunBaseline(),
  'fetch-bun': async (config) =>
    (await import('./fetchAdapter.js')).startFetchAdapter(config, 'bun'),
  'hono-sse-bun': async () => (await import('./honoStreamSse.js')).startHonoStreamSse('bun'),
}
