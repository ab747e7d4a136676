// The log tail page (/logs) in the browser. htmx appends each batch of lines to the log
// (`sse-swap="logs"`, `hx-swap="beforeend"`, one `.log-batch` element per event); this script
// watches the log and:
// 1. keeps the last `data-max-rows` lines: older ones leave the DOM as new ones arrive;
// 2. checks every line's sequence number, per source (`data-source`, `data-seq`), starting from the
//    log's `data-next-seq`: a number skipped counts as missed, one that comes again or out of order
//    as twice. A `.log-resume` marker (the server could not replay what the page missed) says where
//    the log goes on; the lines it skips count as missed too;
// 3. measures the lines per second it receives, over the last two seconds;
// 4. counts the stream's reconnects.
// It shows the figures in #log-stats, and keeps them as numbers in that element's data-* attributes.
// The error storm button (`.log-storm`, `hx-swap="none"`) shows the server's answer next to it,
// refusals too: htmx swaps no 4xx answer by itself.
;(() => {
  const WINDOW_MS = 2000
  const format = new Intl.NumberFormat('en-US')

  function follow(log, stats) {
    const maxRows = Number(log.dataset.maxRows) || 1000
    /** The sequence number expected next, per source. */
    const expected = new Map()
    if (log.dataset.source) expected.set(log.dataset.source, Number(log.dataset.nextSeq))
    const figures = {
      received: 0,
      missing: 0,
      duplicates: 0,
      resumes: 0,
      reconnects: 0,
      lastSeq: 0,
    }
    /** Lines in the DOM. */
    let rows = log.querySelectorAll('.log-line').length
    /** [performance.now(), lines] per batch received in the last WINDOW_MS. */
    const arrivals = []
    let openedAt
    let opens = 0

    function check(line) {
      const source = line.dataset.source
      const seq = Number(line.dataset.seq)
      const next = expected.get(source)
      if (next !== undefined && seq < next) {
        figures.duplicates++
        return
      }
      if (next !== undefined && seq > next) figures.missing += seq - next
      expected.set(source, seq + 1)
      figures.lastSeq = seq
    }

    function resume(marker) {
      figures.resumes++
      const source = marker.dataset.source
      const next = Number(marker.dataset.nextSeq)
      const before = expected.get(source)
      if (before !== undefined && next > before) figures.missing += next - before
      expected.set(source, next)
    }

    /** Removes the oldest lines, whole batches while it can, until `maxRows` are left. */
    function trim() {
      while (rows > maxRows && log.firstElementChild) {
        const first = log.firstElementChild
        const lines = first.classList.contains('log-batch') ? first.children.length : 0
        if (lines <= rows - maxRows) {
          first.remove()
          rows -= lines
        } else {
          for (let extra = rows - maxRows; extra > 0; extra--) first.firstElementChild.remove()
          rows = maxRows
        }
      }
    }

    function linesPerSecond() {
      const now = performance.now()
      while (arrivals.length > 0 && arrivals[0][0] < now - WINDOW_MS) arrivals.shift()
      if (openedAt === undefined) return 0
      const lines = arrivals.reduce((sum, arrival) => sum + arrival[1], 0)
      const span = Math.min(WINDOW_MS, now - openedAt)
      return span > 0 ? (lines * 1000) / span : 0
    }

    function show() {
      const shown = { ...figures, rate: Math.round(linesPerSecond()), rows }
      for (const [name, value] of Object.entries(shown)) {
        stats.dataset[name] = String(value)
        const cell = stats.querySelector(`[data-stat="${name}"]`)
        if (cell) {
          cell.textContent =
            name === 'rate' ? `${format.format(value)} lines/s` : format.format(value)
        }
      }
    }

    new MutationObserver((records) => {
      let lines = 0
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (!(node instanceof HTMLElement)) continue
          if (node.classList.contains('log-batch')) {
            for (const line of node.children) check(line)
            lines += node.children.length
          } else if (node.classList.contains('log-resume')) {
            resume(node)
          }
        }
      }
      if (lines === 0) return
      figures.received += lines
      rows += lines
      arrivals.push([performance.now(), lines])
      trim()
      show()
    }).observe(log, { childList: true })

    // htmx-ext-sse fires htmx:sseOpen on the element holding the connection, on every (re)connect.
    document.addEventListener('htmx:sseOpen', (event) => {
      if (!(event.target instanceof Element) || !event.target.contains(log)) return
      opens++
      openedAt ??= performance.now()
      figures.reconnects = Math.max(0, opens - 1)
      show()
    })
    // The rate falls to 0 when nothing arrives.
    setInterval(show, 500)
    show()
  }

  function reportStorms() {
    document.addEventListener('htmx:afterRequest', (event) => {
      const form = event.target instanceof Element ? event.target.closest('.log-storm') : null
      const status = form?.querySelector('.log-storm-status')
      if (!status) return
      const xhr = event.detail.xhr
      status.textContent = xhr && xhr.status > 0 ? xhr.responseText : 'The server did not answer.'
    })
  }

  function start() {
    const log = document.getElementById('log')
    const stats = document.getElementById('log-stats')
    if (log && stats) follow(log, stats)
    reportStorms()
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
