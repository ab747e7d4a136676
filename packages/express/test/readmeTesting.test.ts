import { readFileSync } from 'node:fs'
import { runIsolated } from '@sse/testkit'
import { expect, test } from 'vitest'

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')

/** The fenced code blocks of the section "Examples that run" of the testing guide, docs/testing.md. */
function guideExamples(): string[] {
  const guide = read('../../../docs/testing.md')
  const start = guide.indexOf('\n## Examples that run\n')
  expect(start).toBeGreaterThan(0)
  const section = guide.slice(start + 1, guide.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```(?:ts|js)\n([\s\S]*?)```/g)].map((match) => match[1]!)
}

test("the testing guide's examples are the files that run: the Vitest one and the node:test one", () => {
  expect(guideExamples()).toEqual([
    read('../../fastify/test/readmeTesting.test.ts'),
    read('./readme/testing.node.mjs'),
  ])
})

test('the node:test example passes under plain node, as written, and the process exits', async () => {
  const run = await runIsolated(read('./readme/testing.node.mjs'), { from: 'express' })
  expect(run.stderr).toBe('')
  // node:test reports in TAP (`# pass 2`) on Node 20 when stdout is not a terminal, and in its spec
  // format (`ℹ pass 2`) from Node 23 on.
  expect(run.stdout).toMatch(/^(#|ℹ) pass 2$/m)
  expect(run.stdout).toMatch(/^(#|ℹ) fail 0$/m)
  expect(run.code).toBe(0)
})
