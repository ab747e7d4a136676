import { readFileSync } from 'node:fs'
import { compareOptionNames, documentedNames, optionsTable } from '@sse/testkit'
import { expect, test } from 'vitest'
import { redisTransportOptionsProperties } from '../src/redisTransportOptions.js'

const OPTIONS_DOC = new URL('../../../docs/options.md', import.meta.url)

test('the redis table of docs/options.md names exactly the options redisTransport() accepts', () => {
  const documented = documentedNames(optionsTable(readFileSync(OPTIONS_DOC, 'utf8'), 'redis'))
  const accepted = Object.keys(redisTransportOptionsProperties)
  expect(accepted.length).toBeGreaterThan(0)
  expect(compareOptionNames('redis', documented, accepted)).toEqual([])
})
