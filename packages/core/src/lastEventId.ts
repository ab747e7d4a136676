import type { SSERequest } from './types.js'

/** Longest `Last-Event-ID` we accept; longer values are treated as absent. */
export const MAX_LAST_EVENT_ID_LENGTH = 256

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/

function clean(value: string | undefined): string | undefined {
  if (value === undefined || value.length > MAX_LAST_EVENT_ID_LENGTH || CONTROL.test(value)) {
    return undefined
  }
  return value
}

/**
 * Reads the client's last event id: the `Last-Event-ID` header, or, when that is absent, the
 * `lastEventId` query parameter (a fresh `EventSource`, as htmx-ext-sse creates after a failure,
 * cannot send the header). A value over 256 characters or with control characters counts as absent.
 */
export function readLastEventId(request: SSERequest): string | undefined {
  const header = request.headers['last-event-id']
  if (header !== undefined) return clean(Array.isArray(header) ? header[0] : header)
  const url = request.url ?? ''
  const query = url.indexOf('?')
  if (query === -1 || url.indexOf('lastEventId=', query) === -1) return undefined
  return clean(new URLSearchParams(url.slice(query + 1)).get('lastEventId') ?? undefined)
}
