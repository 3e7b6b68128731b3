import assert from 'node:assert/strict'
import { verifyTrail } from '../../src/node/auditChain.js'
import { finished, runDeviatingEvent, startAgentDashboard, type AgentDashboard } from './agentNode.js'

describe('dashboard: over a real agent (AgentDashboardView)', function () {
  this.timeout(60_000)
  let a: AgentDashboard | undefined
  afterEach(async () => { await a?.close(); a = undefined })

  it('shows an event with a deviation covered by intra matchmaking, exports its verifiable trail and counts it in /metrics', async () => {
    a = await startAgentDashboard()
    await runDeviatingEvent(a, 'ev-agent')
    const changes: string[] = []
    const unsubscribe = a.view.subscribe(c => { if (c.kind === 'event') changes.push(c.eventId) })
    await finished(a, 'ev-agent')
    unsubscribe()
    assert.ok(changes.filter(id => id === 'ev-agent').length >= 3, 'the view reported the transitions as changes')

    const e = await a.view.event('ev-agent')
    assert.equal(e?.state, 'completed')
    assert.ok(e.customers.length > 0, 'customers involved are read off the plan in the trail')
    for (const i of e.intervals) {
      assert.ok(i.deliveredKw !== null)
      assert.ok(Math.abs(i.deliveredKw - i.requestedKw) <= 0.5 + 1e-9, `interval ${i.index}: requested ${i.requestedKw} (aggregate flow), delivered ${i.deliveredKw}`)
    }

    const page = await (await fetch(`${a.url}/events/ev-agent`)).text()
    assert.match(page, /<li class="step-intra"[^>]*>.*done: intraMatch/)
    assert.equal(page.match(/class="point requested"/g)?.length, 3)
    assert.equal(page.match(/class="point delivered"/g)?.length, 3)
    assert.match(page, /<g class="state final leaf current[^"]*" data-state-id="drEvent\.completed"/)

    const lines = (await (await fetch(`${a.url}/api/events/ev-agent/audit.jsonl`)).text()).trim().split('\n')
    assert.equal(verifyTrail(lines).valid, true, 'the exported trail is what adrmesh audit verify accepts')

    const metrics = await (await fetch(`${a.url}/metrics`)).text()
    assert.match(metrics, /^adrmesh_events\{state="completed"\} 1$/m)
    const intraRuns = e.audit.filter(x => x.stateAfter === 'active.intra').length
    assert.ok(intraRuns > 0)
    const deviations = [...metrics.matchAll(/^adrmesh_deviations_total\{direction="\w+"\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0)
    assert.equal(deviations, intraRuns)
    assert.match(metrics, /^adrmesh_matchmaking_actions_total\{kind="intra",outcome="\w+"\} [1-9]/m)

    const customers = await (await fetch(`${a.url}/customers`)).text()
    assert.equal(customers.match(/<tr data-ven-id=/g)?.length, 8)
    assert.match(customers, /\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]/, 'reliability with its credible interval once the event updated it')
  })
})
