import { describe, expect, test } from 'vitest'
import { failedVerdict, readVerdict } from '../src/broker/authorizeVerdict.js'
import { SSEError } from '../src/sseError.js'

describe('reading an authorize verdict', () => {
  test('true admits', () => {
    expect(readVerdict(true)).toEqual({ admit: true })
  })

  test.each([false, null, undefined])('%s refuses with 403', (verdict) => {
    expect(readVerdict(verdict)).toEqual({ admit: false, status: 403, message: 'Forbidden.' })
  })

  test('{ status, message } refuses with that status and message; the message is optional', () => {
    expect(readVerdict({ status: 401, message: 'Sign in.' })).toEqual({
      admit: false,
      status: 401,
      message: 'Sign in.',
    })
    expect(readVerdict({ status: 429 })).toEqual({
      admit: false,
      status: 429,
      message: 'Too Many Requests.',
    })
    expect(readVerdict({ status: 599 })).toMatchObject({ status: 599 })
    expect(readVerdict({ status: 400 })).toMatchObject({ status: 400 })
  })

  test.each([
    { status: 99 },
    { status: 200 },
    { status: 399 },
    { status: 600 },
    { status: 403.5 },
    { status: '403' },
    { message: 123 },
    { status: 403, message: 123 },
    {},
    'yes',
    1,
    [],
    Object.create(null),
  ])(
    '%o is a programming error in the hook: a coded AUTHORIZE_FAILED, never an odd status',
    (verdict) => {
      const read = readVerdict(verdict)
      expect(read.admit).toBe(false)
      expect('error' in read && read.error).toBeInstanceOf(SSEError)
      expect('error' in read && read.error.code).toBe('AUTHORIZE_FAILED')
    },
  )

  test('a verdict that cannot be printed is still read', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(readVerdict(cyclic)).toMatchObject({ admit: false, error: { code: 'AUTHORIZE_FAILED' } })
  })

  test('a hook that threw becomes AUTHORIZE_FAILED with the thrown value as cause', () => {
    const cause = new Error('db down')
    const read = failedVerdict(cause)
    expect('error' in read && read.error.cause).toBe(cause)
  })
})
