// @sse/core/browser/sse-resume.js: keeps htmx pages resumable. Serve it, or import it in your bundle,
// after htmx and its SSE extension. No options, no globals.
//
// Render the page's stream URL with the broker's cursor, taken with the state the page shows:
//   htmx 2 (htmx-ext-sse): <div hx-ext="sse" sse-connect="/events?topics=notes&lastEventId=CURSOR">
//   htmx 4 (hx-sse):       <div hx-sse:connect="/events?topics=notes&lastEventId=CURSOR">
// The stream then starts right after what the page rendered. This script keeps that `lastEventId`
// current with the id of the last event received, so a connection built again from the attribute
// (htmx-ext-sse after a hard failure; htmx 4 when the element is processed again) resumes where
// the page is, and sets `data-sse-state` on the connecting element for a live indicator: "open",
// or "reconnecting" from the moment the stream fails or the server ends it until it is open again.
;(() => {
  const PARAM = 'lastEventId'

  /** Sets `lastEventId` in the URL held by `attribute` of `element`. */
  function remember(element, attribute, id) {
    if (!(element instanceof Element) || typeof id !== 'string' || id === '') return
    const value = element.getAttribute(attribute)
    if (value === null) return
    const url = new URL(value, window.location.href)
    if (url.searchParams.get(PARAM) === id) return
    url.searchParams.set(PARAM, id)
    element.setAttribute(
      attribute,
      url.origin === window.location.origin ? url.pathname + url.search : url.href,
    )
  }

  function state(element, value) {
    if (element instanceof Element) element.setAttribute('data-sse-state', value)
  }

  /** The element holding the htmx 2 connection that `target` listens on. */
  function htmx2Source(target) {
    return target instanceof Element ? target.closest('[sse-connect]') : null
  }

  // htmx 2 + htmx-ext-sse: `detail` is the browser's MessageEvent, whose `lastEventId` is what the
  // browser itself would send on reconnecting.
  document.addEventListener('htmx:sseMessage', (event) => {
    remember(htmx2Source(event.target), 'sse-connect', event.detail?.lastEventId)
  })
  document.addEventListener('htmx:sseOpen', (event) => state(htmx2Source(event.target), 'open'))
  document.addEventListener('htmx:sseError', (event) =>
    state(htmx2Source(event.target), 'reconnecting'),
  )

  // htmx 4 + hx-sse: events fire on the `hx-sse:connect` element itself.
  document.addEventListener('htmx:sse:after:message', (event) => {
    remember(event.target, 'hx-sse:connect', event.detail?.message?.id)
  })
  document.addEventListener('htmx:sse:after:connection', (event) => state(event.target, 'open'))
  // A stream the server ended (a disconnect, the end of its lifetime, a restart) raises no error:
  // hx-sse fires `htmx:sse:before:connection` before each new attempt, the first one excepted
  // (`connection.attempt` 0).
  document.addEventListener('htmx:sse:before:connection', (event) => {
    if (event.detail?.connection?.attempt > 0) state(event.target, 'reconnecting')
  })
  document.addEventListener('htmx:sse:error', (event) => state(event.target, 'reconnecting'))
})()
