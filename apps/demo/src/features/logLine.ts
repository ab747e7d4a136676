import { html, type SafeHtml } from '@sse/core'

/** Severity of a log line. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'

/** One line of the demo's server log. */
export interface LogLine {
  /** The log that wrote it (one per process): a page checks sequence numbers per source. */
  source: string
  /** 1, 2, 3… within its source, with no gap: what lets a page prove it missed nothing. */
  seq: number
  /** Epoch ms. */
  at: number
  level: LogLevel
  logger: string
  message: string
}

/** A 32-bit integer hash, so that line `n` always says the same thing (tests can reproduce it). */
function mix(value: number): number {
  let x = Math.imul(value ^ (value >>> 16), 0x45d9f3b)
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b)
  return (x ^ (x >>> 16)) >>> 0
}

function pick(seq: number, salt: number, size: number): number {
  return mix(seq * 97 + salt) % size
}

const PATHS = [
  '/api/orders',
  '/api/users',
  '/api/cart/items',
  '/api/invoices',
  '/api/products',
] as const
const TABLES = ['orders', 'users', 'invoices', 'sessions'] as const
const AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'

/**
 * Search terms people type. Some are markup: a log carries user input, and the page must show it
 * as text (the `html` tag escapes it), never run it.
 */
export const SEARCH_TERMS = [
  'blue running shoes',
  '<img src=x onerror=alert(1)>',
  'size 42 & "wide fit"',
  "</li><script>alert('log')</script>",
] as const

function requestId(seq: number): string {
  return mix(seq).toString(16).padStart(8, '0')
}

function level(seq: number): LogLevel {
  const roll = pick(seq, 1, 100)
  if (roll < 3) return 'ERROR'
  if (roll < 10) return 'WARN'
  if (roll < 20) return 'DEBUG'
  return 'INFO'
}

function message(seq: number, lineLevel: LogLevel): { logger: string; message: string } {
  const ms = (pick(seq, 2, 9000) / 10).toFixed(1)
  const id = 1000 + pick(seq, 3, 90_000)
  const req = requestId(seq)
  switch (lineLevel) {
    case 'ERROR':
      return {
        logger: 'payments',
        message: `upstream payments.internal:8443 answered 502 Bad Gateway after ${ms}ms req=${req} order=${id} attempt=${1 + pick(seq, 4, 3)}/3 body="<html><body><h1>502 Bad Gateway</h1></body></html>"`,
      }
    case 'WARN':
      return {
        logger: 'search',
        message: `slow search q="${SEARCH_TERMS[pick(seq, 5, SEARCH_TERMS.length)]}" took=${ms}ms hits=${pick(seq, 6, 500)} user=${id} req=${req} index=products-v7 shard=${pick(seq, 7, 12)}`,
      }
    case 'DEBUG':
      return {
        logger: 'db',
        message: `query ok table=${TABLES[pick(seq, 8, TABLES.length)]} rows=${pick(seq, 9, 200)} took=${ms}ms sql="SELECT id, status, total FROM ${TABLES[pick(seq, 8, TABLES.length)]} WHERE owner_id = $1 AND updated_at > $2 ORDER BY updated_at DESC LIMIT 50"`,
      }
    default: {
      const path = PATHS[pick(seq, 10, PATHS.length)]
      return {
        logger: 'http',
        message: `GET ${path}/${id}?page=${pick(seq, 11, 20)}&sort=desc 200 ${ms}ms ${pick(seq, 12, 64_000)}B req=${req} ip=10.0.${pick(seq, 13, 256)}.${pick(seq, 14, 256)} ua="${AGENT}"`,
      }
    }
  }
}

/** Line `seq` of `source`, written at `at`: the same line for the same number, every time. */
export function createLogLine(source: string, seq: number, at: number): LogLine {
  const lineLevel = level(seq)
  return { source, seq, at, level: lineLevel, ...message(seq, lineLevel) }
}

const STORM_ERRORS = [
  'Error: connect ECONNREFUSED 10.0.4.17:8443',
  'Error: read ETIMEDOUT',
  "TypeError: Cannot read properties of undefined (reading 'total')",
  'Error: pool exhausted: 64 of 64 connections busy',
] as const

/**
 * Line `seq` of an error storm: the same failure over and over with its stack trace on one line,
 * as a log shows when a dependency goes down. Always `ERROR`; as long as the longest normal lines.
 */
export function createStormLine(source: string, seq: number, at: number): LogLine {
  return {
    source,
    seq,
    at,
    level: 'ERROR',
    logger: 'payments',
    message: `charge failed req=${requestId(seq)} order=${1000 + pick(seq, 3, 90_000)}: ${STORM_ERRORS[pick(seq, 15, STORM_ERRORS.length)]} at PaymentsClient.charge (/srv/app/payments/client.js:${80 + pick(seq, 16, 40)}:19) at async CheckoutService.submit (/srv/app/checkout/service.js:142:7)`,
  }
}

/**
 * One line. Every value goes through the `html` tag, so markup in a message (user input in a log
 * is common) shows up as text. `data-source` and `data-seq` let the page check that it got every
 * line once, in order.
 */
export function renderLogLine(line: LogLine): SafeHtml {
  const time = new Date(line.at).toISOString().slice(11, 23)
  return html`<div class="log-line" data-source="${line.source}" data-seq="${line.seq}"><time>${time}</time><span class="log-level ${line.level.toLowerCase()}">${line.level}</span><span class="log-logger">${line.logger}</span><span class="log-msg">${line.message}</span></div>`
}

/**
 * A batch of lines, one event's worth, in one element. htmx settles every top-level element it
 * swaps in (it processes it for `hx-` attributes and fires `htmx:load` on it): one per batch costs
 * the page a few events per 25 ms instead of a few per line, thousands a second.
 */
export function renderLogLines(lines: readonly LogLine[]): SafeHtml {
  return html`<div class="log-batch">${lines.map(renderLogLine)}</div>`
}
