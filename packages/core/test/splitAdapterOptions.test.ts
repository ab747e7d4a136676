import { SSEError } from '@sse/core'
import { createOptionsValidator, splitAdapterOptions } from '@sse/core/kit'
import { errorOf } from '@sse/testkit'
import { expect, test } from 'vitest'

interface OwnOptions {
  flag?: boolean
}

const validator = createOptionsValidator<OwnOptions>('@sse/example', {
  type: 'object',
  properties: { flag: { type: 'boolean' } },
})

test('an adapter’s own keys are taken out and checked; the framework’s are dropped; the rest is left for setUpAdapter', () => {
  const given = { flag: false, keepAlive: 0, prefix: '/sse' }
  const { own, rest } = splitAdapterOptions(given, ['flag'], validator, ['prefix'])
  expect(own).toEqual({ flag: false })
  expect(rest).toEqual({ keepAlive: 0 })
  expect(given).toEqual({ flag: false, keepAlive: 0, prefix: '/sse' })
  expect(splitAdapterOptions({ keepAlive: 0 }, ['flag'], validator)).toEqual({
    own: {},
    rest: { keepAlive: 0 },
  })
})

test('a bad own value is INVALID_OPTION naming the key; anything but a plain object is passed on untouched', () => {
  const error = errorOf(() => splitAdapterOptions({ flag: 'yes' }, ['flag'], validator))
  expect(error).toBeInstanceOf(SSEError)
  expect(error).toMatchObject({ code: 'INVALID_OPTION', message: /@sse\/example: option "flag"/ })
  for (const options of [null, 42, 'flag', [{ flag: 'yes' }]]) {
    expect(splitAdapterOptions(options, ['flag'], validator)).toEqual({ own: {}, rest: options })
  }
})
