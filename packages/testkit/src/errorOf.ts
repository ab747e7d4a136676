import { expect } from 'vitest'

/** A class of errors, for {@link errorOf} and {@link codeOf} to check against. */
export type ErrorClass<TError extends Error = Error> = abstract new (...args: never[]) => TError

/**
 * What `fn` throws, or `undefined` if it returns. With `errorClass`, also asserts that the error is
 * one of those.
 *
 * @example
 * const codeOf = (fn: () => unknown) => errorOf(fn, SSEError)?.code
 * expect(codeOf(() => createBroker({ historySize: -1 }))).toBe('INVALID_OPTION')
 */
export function errorOf<TError extends Error = Error>(
  fn: () => unknown,
  errorClass?: ErrorClass<TError>,
): TError | undefined {
  try {
    fn()
  } catch (error) {
    if (errorClass !== undefined) expect(error).toBeInstanceOf(errorClass)
    return error as TError
  }
  return undefined
}
