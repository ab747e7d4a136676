import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http'
import { describe, expect, test } from 'vitest'
import { isHeaderName, isHeaderValue } from '../src/wire/httpHeaders.js'
import { reasonPhrase } from '../src/wire/statusText.js'

// Core checks headers and words refusals without node:http (the Fetch path): the same answers as
// Node's, on every Node version CI runs.
const nodeAccepts = (check: () => void): boolean => {
  try {
    check()
    return true
  } catch {
    return false
  }
}
const samples = [
  ...Array.from({ length: 0x180 }, (_, code) => String.fromCharCode(code)),
  '✓',
  '😀',
  '',
  'x-name',
  'a b',
  'Content-Type',
]

describe('what core says of HTTP, without node:http, is what Node says', () => {
  test('every refusal status from 400 to 599 has Node’s reason phrase, or none when Node has none', () => {
    for (let status = 400; status <= 599; status++) {
      expect([status, reasonPhrase(status)]).toEqual([status, STATUS_CODES[status]])
    }
  })

  test('header names: accepted exactly when Node accepts them', () => {
    for (const sample of samples) {
      for (const name of [sample, `x-${sample}`]) {
        expect([name, isHeaderName(name)]).toEqual([
          name,
          nodeAccepts(() => validateHeaderName(name)),
        ])
      }
    }
  })

  test('header values: accepted exactly when Node accepts them', () => {
    for (const sample of samples) {
      for (const value of [sample, `v${sample}v`]) {
        expect([value, isHeaderValue(value)]).toEqual([
          value,
          nodeAccepts(() => validateHeaderValue('x-name', value)),
        ])
      }
    }
  })
})
