// The demo's own client glue. Keeping a page's stream resumable, and its `data-sse-state` for the
// live indicator, is @sse/core's `sse-resume.js`, loaded before this file.
//
// 1. A last resort after `sse-reset`. A page that comes back with an id the server cannot resume
//    from gets a snapshot of its state on the stream. Only if that snapshot fails does the stream
//    send `sse-reset`: the page is stale and nothing on the stream will fix it, so reload it (a
//    fresh render comes with a fresh cursor), at most once in 30 s, so a server that keeps failing
//    cannot make it loop.
// 2. The Alpine component of the scoreboard's state-mode island.
// 3. On a narrow screen the nav is one row that scrolls sideways: bring the current page into view.
;(() => {
  const RELOADED_AT = 'sse-demo:reloaded-at'

  function reloadOnce() {
    try {
      const last = Number(sessionStorage.getItem(RELOADED_AT))
      if (Date.now() - last < 30_000) return
      sessionStorage.setItem(RELOADED_AT, String(Date.now()))
    } catch {
      // No sessionStorage (a privacy setting): reload anyway, there is nothing better to do.
    }
    window.location.reload()
  }
  // htmx 2: `hx-trigger="sse:sse-reset"` on the stream element; htmx 4: a named event is a DOM event.
  document.addEventListener('sse:sse-reset', reloadOnce)
  document.addEventListener('sse-reset', reloadOnce)

  document.addEventListener('DOMContentLoaded', () => {
    const current = document.querySelector('.nav [aria-current="page"]')
    const nav = current?.parentElement
    if (current && nav && nav.scrollWidth > nav.clientWidth) {
      current.scrollIntoView({ block: 'nearest', inline: 'center' })
    }
  })

  document.addEventListener('alpine:init', () => {
    window.Alpine.data('scoreboard', (initial) => ({
      ...initial,
      /** Merges the JSON of a `state` event: a live one, or the one in the page's snapshot. */
      merge(json) {
        Object.assign(this, JSON.parse(json))
      },
    }))
  })
})()
