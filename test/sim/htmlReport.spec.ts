import assert from 'node:assert/strict'
import { DOMParser } from '@xmldom/xmldom'
import { agentFigures, summarise, type IntervalInput } from '../../src/sim/figures.js'
import { agentSvg, renderHtmlReport } from '../../src/sim/htmlReport.js'
import { progressBar, summaryTable } from '../../src/sim/console.js'

const intervals: IntervalInput[] = Array.from({ length: 12 }, (_, t) => ({
  startMs: t * 900_000, setpointKw: 80, baselineKw: 100, ownFlowKw: t === 5 ? 95 : 80, peerDeltaKw: t === 7 ? -3 : 0,
  intraActions: t === 3 || t === 5 ? 1 : 0, interActions: t === 7 ? 2 : 0, cost: 0.5, reachableKw: 60
}))
const agent = agentFigures({ agentId: 'node-<1>', intervalMs: 900_000, intervals })

describe('sim/htmlReport', () => {
  it('each agent’s chart is well-formed SVG with one marker per interval where intra or inter acted', () => {
    const doc = new DOMParser().parseFromString(agentSvg(agent, 0.05), 'image/svg+xml')
    const svg = doc.documentElement!
    assert.equal(svg.localName, 'svg')
    const byClass = (tag: string, cls: string): number => Array.from(doc.getElementsByTagName(tag)).filter(e => e.getAttribute('class') === cls).length
    assert.equal(byClass('path', 'intra'), 2)
    assert.equal(byClass('circle', 'inter'), 1)
    assert.equal(byClass('line', 'miss'), 1, 'interval 5 is outside tolerance')
    assert.equal(byClass('path', 'delivered'), 1)
  })

  it('the report is self-contained: parameters, summary, one chart per agent per run, names escaped, no scripts or links', () => {
    const summary = summarise([agent])
    const html = renderHtmlReport({
      title: 'run', tolerance: 0.05, summary, parameters: { agents: 1, seed: 42, strategy: 'full' },
      runs: [{ label: 'full', summary, agents: [agent] }, { label: 'none', summary, agents: [agent] }]
    })
    assert.equal((html.match(/<svg /g) ?? []).length, 2)
    assert.ok(html.includes('node-&lt;1&gt;') && !html.includes('node-<1>'))
    assert.ok(html.includes('<th>seed</th><td>42</td>'))
    assert.ok(!/<script|<link|src=|href=/i.test(html))
  })

  it('the console shows a progress bar and a summary table with a total row', () => {
    assert.equal(progressBar(5, 10, 10), '[#####.....]  50 % (5/10)')
    const table = summaryTable('full', [agent], summarise([agent])).split('\n')
    assert.match(table.at(-1)!, /^total\s+91\.7 %/)
    assert.equal(table.length, 6)
  })
})
