import { defineConfig } from 'tsup'

/**
 * The build of every `@sse/*` package: ESM and CommonJS with their type declarations, for Node 20.
 * Members marked `@internal` are left out of the declarations.
 */
export function packageBuild(entry: readonly string[] = ['src/index.ts']) {
  return defineConfig({
    entry: [...entry],
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { stripInternal: true } },
    // One copy of shared code for every entry, in CommonJS too: an SSEError thrown through
    // `@sse/core/kit` is `instanceof` the one from `@sse/core`.
    splitting: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
  })
}
