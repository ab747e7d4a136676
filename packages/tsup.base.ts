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
    // Rollup then writes the CommonJS chunks. Without it, split CommonJS goes through a second
    // transform that renames classes (`SSEError.name` became `_class`) and leaves the build
    // machine's absolute paths in the source maps.
    treeshake: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
  })
}
