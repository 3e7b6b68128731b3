import assert from 'node:assert/strict'
import { verifyTrail } from '../../src/node/auditChain.js'
import { get, MARKET, removeDir, tempDir, waitFor } from './agentFixtures.js'
import { enrolledThroughReports, finished, INTERVAL, loadDispatch, POLL, rig, type Rig, type Site } from './agentOpenadrRig.js'

describe('agent over OpenADR: 20 VEN customers, an upstream VTN, one node', function () {
  this.timeout(60_000)
  let r: Rig | undefined
  let dir = ''

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await r?.stop()
    r = undefined
    await removeDir(dir)
  })

  it('learns customers from their report registration, answers a LOAD_DISPATCH event optIn, and the aggregate follows the setpoint', async () => {
    r = await rig(dir)
    await enrolledThroughReports(r)
    const site0 = r.agent.book.all().find(c => c.venName === 'site-00')
    assert.equal(site0?.capabilities?.costDownPerKwh, 0.1)
    assert.equal(site0?.capabilities?.pvKw, 3)
    assert.equal(site0?.capabilities?.forecastIntervalMs, POLL)
    assert.equal(site0?.capabilities?.baselineKw.length, 2)
    // Σ baselines = 7·5 + 7·6 + 6·7 = 119 kW; each site can shed 2 kW.
    await r.utility.createEvent(loadDispatch(r, 'ev-up', [104, 99, 109]))
    const rr = r
    const answer = await waitFor('the node to answer upstream', () => rr.utility.eventResponses('ev-up')[0])
    assert.equal(answer.optType, 'optIn')
    assert.equal(answer.venID, r.nodeVenID)
    const e = await finished(r.url, 'ev-up')
    assert.equal(e.state, 'completed')
    assert.equal(e.request.signalType, 'setpoint')
    for (const i of e.intervals) {
      assert.ok(i.deliveredKw !== null, `interval ${i.index} measured`)
      assert.ok(Math.abs(i.deviationKw) <= 0.5, `interval ${i.index}: delivered ${i.deliveredKw}, requested ${i.requestedKw}`)
    }
    // Each dispatched site received its own eiEvent, answered it, and no longer holds it after completion.
    const dispatched = r.customers.vtn.events().filter(ev => ev.eventDescriptor.eventID.startsWith('ev-up#'))
    assert.ok(dispatched.length >= 8, `${dispatched.length} sites dispatched`)
    for (const ev of dispatched) {
      assert.equal(ev.eiEventSignals[0]?.signalName, 'LOAD_DISPATCH')
      assert.equal(ev.eventDescriptor.marketContext, MARKET)
      assert.equal(r.customers.vtn.eventResponses(ev.eventDescriptor.eventID)[0]?.optType, 'optIn')
    }
    assert.equal(verifyTrail((await get(r.url, '/api/events/ev-up/audit')).json.lines).valid, true)
    // Upward telemetry: the node's aggregate, as TELEMETRY_USAGE reports the utility requested.
    const reports = await r.utility.readReports(r.nodeVenID)
    const usage = reports.flatMap(s => s.report.intervals ?? []).flatMap(i => i.payloads).filter(p => p.rID === 'usage').map(p => p.value as number)
    assert.ok(usage.length > 0, 'telemetry reached the utility')
    assert.ok(usage.some(v => v < 110) && usage.some(v => v > 115), `aggregate went down during the event and back: ${usage.join(', ')}`)
  })

  it('covers a site that stops following its setpoint mid-event with intra matchmaking in the same interval; the cover reaches the chosen sites over OpenADR', async () => {
    r = await rig(dir)
    await enrolledThroughReports(r)
    const body = loadDispatch(r, 'ev-dev', [109, 109, 109])
    await r.utility.createEvent(body)
    const rr = r
    const first = await waitFor('a dispatch', () => rr.customers.vtn.events().find(ev => ev.eventDescriptor.eventID.startsWith('ev-dev#')))
    const deviatorId = first.eventDescriptor.eventID.split('#')[1] as string
    const deviator = r.sites.find(s => s.ven.venID === deviatorId) as Site
    deviator.ignoreFromMs = body.dtstartMs + INTERVAL
    const e = await finished(r.url, 'ev-dev')
    assert.equal(e.state, 'completed')
    const intra = e.audit.filter((a: { stateBefore: string }) => a.stateBefore === 'active.intra')
    assert.ok(intra.length > 0, 'intra matchmaking ran')
    const chosen: string[] = intra[0].decision.chosen
    assert.ok(chosen.length > 0, 'other customers were chosen to cover')
    assert.ok(intra[0].timeMs < body.dtstartMs + 2 * INTERVAL, 'covered within interval 1')
    // The cover reached the chosen sites as OpenADR: a modification of the eiEvent of a site already
    // dispatched, a new eiEvent for one that was not; each site answered optIn.
    for (const venId of chosen) {
      const ev = r.customers.vtn.event(`ev-dev#${venId}`)
      assert.ok(ev !== undefined, `${venId} holds an eiEvent`)
      const created = ev.eventDescriptor.createdDateTimeMs
      assert.ok(ev.eventDescriptor.modificationNumber > 0 || created >= body.dtstartMs + INTERVAL, `${venId}: modified, or sent during the event`)
      assert.equal(r.customers.vtn.eventResponses(`ev-dev#${venId}`).at(-1)?.optType, 'optIn')
    }
    const last = e.intervals[2]
    assert.ok(Math.abs(last.deviationKw) <= 0.5, `interval 2 covered: delivered ${last.deliveredKw}, requested ${last.requestedKw}`)
  })

  it('a cancellation from the upstream VTN cancels the event and withdraws every customer eiEvent', async () => {
    r = await rig(dir)
    await enrolledThroughReports(r)
    await r.utility.createEvent(loadDispatch(r, 'ev-cancel', [109, 109], 60_000))
    const rr = r
    await waitFor('dispatch', () => rr.customers.vtn.events().some(ev => ev.eventDescriptor.eventID.startsWith('ev-cancel#')) ? true : undefined)
    await r.utility.cancelEvent('ev-cancel')
    const e = await finished(r.url, 'ev-cancel')
    assert.equal(e.state, 'cancelled')
    const mine = r.customers.vtn.events().filter(ev => ev.eventDescriptor.eventID.startsWith('ev-cancel#'))
    await waitFor('customer events cancelled', () => mine.every(ev => rr.customers.vtn.event(ev.eventDescriptor.eventID)?.eventDescriptor.eventStatus === 'cancelled') ? true : undefined)
  })
})
