import { describeInBrowser, launchBrowser } from '@sse/testkit/browser'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENDER_IDS, CONTENDER_LABELS, type ContenderId } from '../src/protocol.js'
import type { BenchResult, Sample, ScenarioResult } from '../src/results.js'
import { benchmarkSvg } from '../src/svgChart.js'

/** Per-contender values of one metric in two rounds (the baseline's is the round's reference). */
function scenario(
  id: string,
  metric: string,
  values: Partial<Record<ContenderId, [number, number]>>,
  params: ScenarioResult['params'],
): ScenarioResult {
  const samples: Sample[] = []
  for (const round of [1, 2]) {
    for (const contender of CONTENDER_IDS) {
      const value = values[contender]
      if (value === undefined) continue
      samples.push({ contender, round, metrics: { [metric]: value[round - 1]! }, notes: [] })
    }
  }
  return { id, title: id, params, samples, method: [] }
}

const fanOut = { clients: 1000, events: 2000, 'event bytes': 200 }

function result(command = 'pnpm bench --full'): BenchResult {
  return {
    mode: 'full',
    command,
    machine: { cpus: 2, cpuModel: 'AMD EPYC', node: 'v20.20.2', platform: 'linux x64', date: '' },
    warnings: [],
    durations: {},
    scenarios: [
      scenario(
        'S1',
        'deliveriesPerSec',
        {
          baseline: [500e3, 400e3],
          core: [550e3, 440e3],
          fastify: [450e3, 380e3],
          express: [300e3, 280e3],
          'better-sse': [270e3, 220e3],
          'fastify-sse': [390e3, 300e3],
          'fastify-sse-v2': [200e3, 180e3],
        },
        { ...fanOut, 'events per publish turn': 1 },
      ),
      scenario(
        'S1b',
        'deliveriesPerSec',
        {
          baseline: [500e3, 500e3],
          core: [3.2e6, 2.9e6],
          fastify: [3.3e6, 3.4e6],
          express: [2.7e6, 2.8e6],
          'better-sse': [170e3, 180e3],
          'fastify-sse': [160e3, 150e3],
          // A bar far beyond the others must still fit the plot.
          'fastify-sse-v2': [12e6, 9e6],
        },
        { ...fanOut, 'events per publish turn': 100 },
      ),
      scenario(
        'S3',
        'rssKB',
        {
          baseline: [10.5, 10.6],
          core: [10.4, 10.5],
          fastify: [10.2, 10.1],
          express: [19, 20],
          'better-sse': [21, 21],
          'fastify-sse': [12, 12],
          'fastify-sse-v2': [18, 18],
        },
        { connections: 10_000 },
      ),
    ],
  }
}

describe('the benchmark chart', () => {
  it('names every contender in each of the three panels, each panel with its publishing pattern', () => {
    const svg = benchmarkSvg(result())
    for (const contender of CONTENDER_IDS) {
      expect(svg.split(`>${CONTENDER_LABELS[contender]}</text>`)).toHaveLength(4)
    }
    expect(svg).toContain('Isolated events: one event per event-loop turn')
    expect(svg).toContain('Bursts: 100 events per event-loop turn')
    expect(svg).toContain('Idle connections: memory per connection')
    expect(svg).toContain('1,000 clients, 2,000 events of 200 B')
  })

  it('draws each bar as the median of the per-round ratios to the baseline', () => {
    const svg = benchmarkSvg(result())
    // core: 550k/500k = 1.10 and 440k/400k = 1.10; express: 0.60 and 0.70 → 0.65.
    expect(svg).toContain('@sse/core (node:http): 1.10×')
    expect(svg).toContain('@sse/express: 0.65× (min 0.60×, max 0.70×, 2 rounds)')
    expect(svg).toContain('fastify-sse-v2: 21.0×')
  })

  it('escapes what it did not write itself', () => {
    const svg = benchmarkSvg(result('pnpm bench --md=<x>&"y".md'))
    expect(svg).toContain('pnpm bench --md=&lt;x&gt;&amp;&quot;y&quot;.md')
    expect(svg).not.toContain('<x>')
  })

  it('marks every bar TBD when there are no results yet', () => {
    const empty: BenchResult = { ...result(), scenarios: [] }
    const svg = benchmarkSvg(empty)
    expect(svg.match(/>TBD<\/text>/g)).toHaveLength(3 * CONTENDER_IDS.length)
    expect(svg).toContain('No results yet')
  })
})

describeInBrowser('the benchmark chart in Chromium', () => {
  let browser: Browser

  beforeAll(async () => {
    browser = await launchBrowser()
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
  })

  for (const [name, make] of [
    ['with results', () => result('pnpm bench --full --md=<x>&y.md')],
    ['without results', () => ({ ...result(), scenarios: [] })],
    [
      'after a long command line, on a long CPU name',
      () => {
        const long = result(`pnpm bench --full ${'--s1.clients=1000 '.repeat(30)}`)
        long.machine.cpuModel = 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz with a long name'
        return long
      },
    ],
  ] as const) {
    it(`parses as XML and keeps every label inside the picture (${name})`, async () => {
      const svg = benchmarkSvg(make())
      const page = await browser.newPage()
      try {
        const parseError = await page.evaluate(
          (text) =>
            new DOMParser().parseFromString(text, 'image/svg+xml').querySelector('parsererror')
              ?.textContent ?? null,
          svg,
        )
        expect(parseError).toBeNull()
        await page.setContent(svg)
        const outside = await page.evaluate(() => {
          const root = document.querySelector('svg')!
          const width = Number(root.getAttribute('width'))
          const height = Number(root.getAttribute('height'))
          return Array.from(root.querySelectorAll('text'))
            .map((node) => ({ text: node.textContent, box: node.getBBox() }))
            .filter(
              ({ box }) =>
                box.x < 0 || box.y < 0 || box.x + box.width > width || box.y + box.height > height,
            )
            .map(({ text }) => text)
        })
        expect(outside).toEqual([])
      } finally {
        await page.close()
      }
    })
  }
})
