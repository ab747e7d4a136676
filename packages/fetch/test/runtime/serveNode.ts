/**
 * Starts {@link runtimeApp} on 127.0.0.1, port 0, under Node through `@hono/node-server`, and
 * prints `listening <port>` once it accepts requests. `SSE_OPTIONS` (JSON) sets the app up.
 */
import { serve } from '@hono/node-server'
import { type RuntimeAppOptions, runtimeApp } from './app.js'

const options = JSON.parse(process.env.SSE_OPTIONS ?? '{}') as RuntimeAppOptions
const app = runtimeApp(options)
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, ({ port }) =>
  console.log(`listening ${port}`),
)
