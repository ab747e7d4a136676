/**
 * Imports a package without loading its type declarations: @fastify/sse, fastify-sse-v2 and
 * @sse/fastify each declare their own `reply.sse`, which cannot coexist in one program, and the
 * bench has no `@types/express`. Each contender file states the small surface it uses instead.
 */
export async function importUntyped<TModule>(specifier: string): Promise<TModule> {
  return (await import(specifier)) as TModule
}
