import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`))
}

// The stylesheet and page script are those of the Fastify demo next door (apps/demo), so both
// demos look and behave alike. Resolved from this file, so this works from `src/` (tests) and from
// the bundled `dist/server.js` alike.
export const assetDirs = {
  public: fileURLToPath(new URL('../../demo/public/', import.meta.url)),
  htmx: join(packageDir('htmx.org'), 'dist'),
  htmxExtSse: join(packageDir('htmx-ext-sse'), 'dist'),
  /** `@sse/core`'s browser script: keeps the page's stream resumable and its `data-sse-state` current. */
  sseResume: dirname(require.resolve('@sse/core/browser/sse-resume.js')),
}
