/**
 * Header names and values as HTTP allows them (RFC 9110), checked the way Node's
 * `validateHeaderName` and `validateHeaderValue` check them, so that a `headers` option means the
 * same on every runtime, and checking it needs nothing of `node:http`.
 */

/** A token: the characters of a header name. */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/
/** Anything but a tab, visible ASCII, and Latin-1 beyond it. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/

/** Whether `name` may be a header name. */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name)
}

/** Whether `value` may be a header value. */
export function isHeaderValue(value: string): boolean {
  return !INVALID_VALUE.test(value)
}
