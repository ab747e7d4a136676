import { defineConfig } from 'vitest/config'

/**
 * Root Vitest config (Vitest 4 no longer reads a workspace file by itself).
 */
export default defineConfig({
  // Workspace packages resolve to their sources through the `@sse/source` export condition (the
  // same one tsconfig.base.json and the bench use), so no build is needed first.
  // Vite's own defaults follow it (Vite's defaultServerConditions, not exported by vitest/config).
  resolve: { conditions: ['@sse/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@sse/source', 'module', 'node', 'development|production'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      ...['core', 'testing', 'fastify', 'express', 'fetch', 'redis'].map((name) => ({
        extends: true as const,
        test: { name, include: [`packages/${name}/test/**/*.test.ts`] },
      })),
      ...['demo', 'demo-express', 'bench'].map((name) => ({
        extends: true as const,
        test: { name, include: [`apps/${name}/test/**/*.test.ts`] },
      })),
    ],
  },
})
