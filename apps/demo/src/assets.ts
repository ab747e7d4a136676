import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`))
}

/**
 * Where the browser assets live, resolved from this module so it works both from `src/` (tests)
 * and from the bundled `dist/server.js` (`pnpm start`): both sit one level under `apps/demo`.
 */
export const assetDirs = {
  /** Our stylesheet, the demo's own client glue and the favicon. */
  public: fileURLToPath(new URL('../public/', import.meta.url)),
  htmx: join(packageDir('htmx.org'), 'dist'),
  htmxExtSse: join(packageDir('htmx-ext-sse'), 'dist'),
  /** `htmx.org@4`, installed under the alias `htmx4`. */
  htmx4: join(packageDir('htmx4'), 'dist'),
  alpine: join(packageDir('alpinejs'), 'dist'),
  /** `@sse/core`'s browser script, which keeps a page's stream resumable (see `layout.ts`). */
  sseResume: dirname(require.resolve('@sse/core/browser/sse-resume.js')),
}

/** The URLs the pages load them from. */
export const assetUrls = {
  style: '/static/style.css',
  script: '/static/app.js',
  /** The log tail page's script: row cap, sequence check, lines per second. */
  logTail: '/static/logTail.js',
  favicon: '/static/favicon.svg',
  htmx: '/vendor/htmx/htmx.min.js',
  // htmx-ext-sse 2.x for htmx 2 (`htmx.org/dist/ext/sse.js` is the old htmx 1 extension).
  htmxExtSse: '/vendor/htmx-ext-sse/sse.min.js',
  htmx4: '/vendor/htmx4/htmx.min.js',
  htmx4Sse: '/vendor/htmx4/ext/hx-sse.js',
  alpine: '/vendor/alpinejs/cdn.min.js',
  sseResume: '/vendor/sse/sse-resume.js',
}
