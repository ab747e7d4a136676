/** C0 and C1 control characters and DEL (CR, LF and NUL among them). */
const CONTROL = /\p{Cc}/u

/**
 * Whether `value` is a non-empty string of at most `maxLength` characters without control
 * characters: what a conflation key and a stream tag must be.
 */
export function isBoundedText(value: unknown, maxLength: number): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= maxLength &&
    !CONTROL.test(value)
  )
}
