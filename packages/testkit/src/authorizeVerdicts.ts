/** What an `authorize` hook answers (or throws), and what the client must then get. */
export interface VerdictCase {
  /** Reads as the start of a test name: `answering { status: 429 }`. */
  name: string
  /** Called by the hook: return it (or resolve with it, for an async hook). */
  verdict: () => unknown
  status: number
  /** The plain-text body of the refusal. */
  body: string
  /** The `onError` code reported, if any. */
  code?: string
}

const refused = (status: number, body: string) => ({ status, body })
const failed = { status: 500, body: 'Authorization failed.', code: 'AUTHORIZE_FAILED' }

/**
 * Every kind of verdict a hook can give short of admitting: the refusals it means, and the values
 * that are no verdict at all (answered 500 and reported as `AUTHORIZE_FAILED`). Core and both
 * adapters must answer them alike.
 */
export const authorizeVerdicts: readonly VerdictCase[] = [
  { name: 'answering null', verdict: () => null, ...refused(403, 'Forbidden.') },
  { name: 'answering undefined', verdict: () => undefined, ...refused(403, 'Forbidden.') },
  { name: 'answering false', verdict: () => false, ...refused(403, 'Forbidden.') },
  {
    name: 'answering { status: 401, message }',
    verdict: () => ({ status: 401, message: 'Sign in.' }),
    ...refused(401, 'Sign in.'),
  },
  {
    name: 'answering { status: 429 }',
    verdict: () => ({ status: 429 }),
    ...refused(429, 'Too Many Requests.'),
  },
  {
    name: 'answering { status: 599, message }',
    verdict: () => ({ status: 599, message: 'Busy.' }),
    ...refused(599, 'Busy.'),
  },
  { name: 'answering { status: 99 }', verdict: () => ({ status: 99 }), ...failed },
  { name: 'answering { status: 200 }', verdict: () => ({ status: 200 }), ...failed },
  { name: 'answering { message: 123 }', verdict: () => ({ message: 123 }), ...failed },
  { name: "answering 'yes'", verdict: () => 'yes', ...failed },
  { name: 'answering {}', verdict: () => ({}), ...failed },
  {
    name: 'throwing (rejecting, when async)',
    verdict: () => {
      throw new Error('token store down')
    },
    ...failed,
  },
]
