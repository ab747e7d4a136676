// Client glue for the htmx 2 pages. Loaded after htmx and htmx-ext-sse, before Alpine.
//
// 1. Resume after a hard failure. The browser's EventSource reconnects by itself after a dropped
//    stream and sends Last-Event-ID. But after a hard failure (a 503, a wrong content type),
//    htmx-ext-sse builds a *new* EventSource from the sse-connect attribute, and a new EventSource
//    cannot send that header. So we keep a `lastEventId` query parameter in the attribute current
//    with the id of the last event seen; the server reads it when the header is absent.
//    htmx-ext-sse fires `htmx:sseMessage` with the MessageEvent itself as `detail`, so
//    `detail.lastEventId` is the id the browser would have sent.
// 2. Show the stream's state in the top bar (`data-sse-state` on the connecting element).
// 3. The Alpine component of the scoreboard's state-mode island.
;(() => {
  /** The page's resumable connection that `target` listens on, if any (job and chat streams are not). */
  function resumableSource(target) {
    if (!(target instanceof Element)) return null
    const source = target.closest('[sse-connect]')
    return source?.hasAttribute('data-resume') ? source : null
  }

  document.addEventListener('htmx:sseMessage', (event) => {
    const source = resumableSource(event.target)
    const id = event.detail?.lastEventId
    if (source === null || !id) return
    const url = new URL(source.getAttribute('sse-connect'), window.location.href)
    if (url.searchParams.get('lastEventId') === id) return
    url.searchParams.set('lastEventId', id)
    source.setAttribute('sse-connect', url.pathname + url.search)
  })

  function showState(event, state) {
    if (event.target instanceof Element && event.target.hasAttribute('data-resume')) {
      event.target.setAttribute('data-sse-state', state)
    }
  }
  document.addEventListener('htmx:sseOpen', (event) => showState(event, 'open'))
  document.addEventListener('htmx:sseError', (event) => showState(event, 'reconnecting'))

  document.addEventListener('alpine:init', () => {
    window.Alpine.data('scoreboard', (initial, stateUrl) => ({
      ...initial,
      /** Merges the JSON of a `state` event. */
      merge(json) {
        Object.assign(this, JSON.parse(json))
      },
      /** After `sse-reset` the events we missed are gone: fetch the whole state. */
      async reload() {
        const response = await fetch(stateUrl, { headers: { Accept: 'application/json' } })
        if (response.ok) Object.assign(this, await response.json())
      },
    }))
  })
})()
