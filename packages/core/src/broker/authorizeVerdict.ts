import { SSEError } from '../sseError.js'
import { reasonPhrase } from '../wire/statusText.js'

/** A hook's answer, read: admit, refuse with a status, or fail (answered 500 and reported). */
export type Verdict =
  | { readonly admit: true }
  | { readonly admit: false; readonly status: number; readonly message: string }
  | { readonly admit: false; readonly error: SSEError }

const ADMIT: Verdict = { admit: true }
const FORBIDDEN: Verdict = { admit: false, status: 403, message: 'Forbidden.' }

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value)
  try {
    return JSON.stringify(value) ?? 'an object'
  } catch {
    return 'an object'
  }
}

/**
 * Reads an `authorize` verdict. Anything but the documented shapes is a programming error in the
 * hook: it becomes an `AUTHORIZE_FAILED` error (the request is answered 500), never a crash and
 * never an odd status such as `200 Forbidden.`.
 */
export function readVerdict(result: unknown): Verdict {
  if (result === true) return ADMIT
  if (result === false || result === null || result === undefined) return FORBIDDEN
  if (typeof result === 'object') {
    const { status, message } = result as { status?: unknown; message?: unknown }
    if (
      typeof status === 'number' &&
      Number.isInteger(status) &&
      status >= 400 &&
      status <= 599 &&
      (message === undefined || typeof message === 'string')
    ) {
      return { admit: false, status, message: message || `${reasonPhrase(status) ?? 'Refused'}.` }
    }
  }
  return {
    admit: false,
    error: new SSEError(
      'AUTHORIZE_FAILED',
      `@sse/core: the authorize hook answered ${describe(result)}; expected true, false, null, undefined or { status: 400–599, message?: string }. Answering 500`,
    ),
  }
}

/** The verdict for a hook that threw or rejected. */
export function failedVerdict(cause: unknown): Verdict {
  return {
    admit: false,
    error: new SSEError('AUTHORIZE_FAILED', '@sse/core: the authorize hook threw; answering 500', {
      cause,
    }),
  }
}
