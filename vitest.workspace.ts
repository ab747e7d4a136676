import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * Root Vitest config (Vitest 4 no longer reads a workspace file by itself).
 * Tests import the packages by name and run against their sources, so no build is needed first.
 */
export default defineConfig({
  resolve: {
    alias: {
      '@sse/core': here('./packages/core/src/index.ts'),
      '@sse/fastify': here('./packages/fastify/src/index.ts'),
      '@sse/express': here('./packages/express/src/index.ts'),
      '@sse/redis': here('./packages/redis/src/index.ts'),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      ...['core', 'fastify', 'express', 'redis'].map((name) => ({
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
