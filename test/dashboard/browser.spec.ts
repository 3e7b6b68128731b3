/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, headless, no network but
 * loopback. Skips only when /usr/bin/chromium is absent (CI installs it with apt-get).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { drEventMachine } from '../../src/machines/drEvent.js'
import { machineGraph } from '../../src/dashboard/machineGraph.js'
import { MINUTE, T0 } from '../machines/harness.js'
import { EVENT, INTERVALS, serveDashboard, startDeviatingEvent, type Served } from './fixture.js'
import { finished, runDeviatingEvent, startAgentDashboard, type AgentDashboard } from './agentNode.js'

const executablePath = '/usr/bin/chromium'
const outputDir = join(process.cwd(), 'test-output', 'dashboard')

describe('dashboard: in a real browser (chromium)', function () {
  this.timeout(60_000)
  let s: Served | undefined
  let a: AgentDashboard | undefined
  let context: BrowserContext | undefined
  let profile: string | undefined

  before(async function () {
    if (!existsSync(executablePath)) {
      console.log(`    skipped: ${executablePath} is absent (apt-get install -y chromium)`)
      this.skip()
    }
    profile = await mkdtemp(join(tmpdir(), 'adrmesh-chromium-'))
    // A fresh profile per run: playwright passes it to chromium as --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      // The pages forbid eval (CSP); playwright's string predicates need it, the pages' own script does not.
      bypassCSP: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-component-update', '--disable-sync']
    })
    await mkdir(outputDir, { recursive: true })
  })

  after(async () => {
    await context?.close()
    if (profile !== undefined) await rm(profile, { recursive: true, force: true })
  })

  afterEach(async () => {
    await s?.close()
    await a?.close()
    s = undefined
    a = undefined
  })

  /** A page that records requests leaving the node and script errors. */
  async function openPage (base: string): Promise<{ page: Page, outside: string[], errors: string[] }> {
    const page = await (context as BrowserContext).newPage()
    const outside: string[] = []
    const errors: string[] = []
    page.on('request', r => { if (!r.url().startsWith(base)) outside.push(r.url()) })
    page.on('pageerror', e => { errors.push(e.message) })
    return { page, outside, errors }
  }

  /** Records every state the page shows, from now on. */
  async function watchStates (page: Page): Promise<void> {
    await page.evaluate(`{
      const root = document.querySelector('[data-event-id]')
      window.seen = [root.dataset.state]
      new MutationObserver(() => { if (window.seen[window.seen.length - 1] !== root.dataset.state) window.seen.push(root.dataset.state) })
        .observe(root, { attributes: true, attributeFilter: ['data-state'] })
    }`)
  }

  async function drawnStates (page: Page): Promise<string[]> {
    return await page.evaluate<string[]>("[...document.querySelectorAll('svg.statechart [data-state-id]')].map(e => e.getAttribute('data-state-id'))")
  }

  async function currentStates (page: Page): Promise<Array<{ id: string, fill: string }>> {
    return await page.evaluate<Array<{ id: string, fill: string }>>(
      "[...document.querySelectorAll('svg.statechart .state.current')].map(e => ({ id: e.getAttribute('data-state-id'), fill: getComputedStyle(e.querySelector('rect')).fill }))")
  }

  it('shows the statechart, the intra matchmaking step and the chart of an event with a deviation, and follows it live', async () => {
    s = await serveDashboard()
    const { endMs } = startDeviatingEvent(s.view)
    // Interval 1 (from T0+25 min) is where c2 deviates; its checkpoints fall at +7.5 and +15 min.
    await s.view.timers.advanceTo(T0 + 10 * MINUTE + 15 * MINUTE + 16 * MINUTE)

    const { page, outside, errors } = await openPage(s.url)
    await page.goto(`${s.url}/events/${EVENT}`)
    // In-page code is written as strings: the project compiles without the DOM library.
    await page.waitForFunction("document.getElementById('live').textContent === 'live'")

    const drawn = await drawnStates(page)
    assert.deepEqual([...drawn].sort(), machineGraph(drEventMachine).states.map(st => st.id).sort(), 'every state of the machine is drawn')

    const state = (await s.view.event(EVENT))?.state ?? ''
    assert.ok(state.startsWith('active.'), state)
    const current = await currentStates(page)
    assert.deepEqual(current.map(c => c.id), [`drEvent.${state}`])
    assert.equal(current[0]?.fill, 'rgb(255, 213, 79)', 'the current state is drawn highlighted')

    const intra = await page.locator('#timeline li.step-intra').allTextContents()
    assert.ok(intra.some(t => t.includes('done: intraMatch')), `the timeline lists the intra matchmaking step: ${intra.join(' | ')}`)
    assert.equal(await page.locator('svg.interval-chart circle.point.requested').count(), INTERVALS, 'one requested point per interval')
    const deliveredSoFar = (await s.view.event(EVENT))?.intervals.filter(i => i.deliveredKw !== null).length
    assert.equal(await page.locator('svg.interval-chart circle.point.delivered').count(), deliveredSoFar)

    await page.screenshot({ path: join(outputDir, 'event-active.png'), fullPage: true })

    // Live: record every state the page shows while the event runs to its end.
    await watchStates(page)
    for (let t = T0 + 42 * MINUTE; t <= endMs; t += 4 * MINUTE) {
      await s.view.timers.advanceTo(t)
      await new Promise(resolve => setTimeout(resolve, 30))
    }
    await s.view.timers.advanceTo(endMs)
    await page.waitForFunction("document.querySelector('[data-event-id]').dataset.state === 'completed'")
    const seen = await page.evaluate<string[]>('window.seen')
    assert.ok(seen.length >= 3, `the page changed state live: ${seen.join(' → ')}`)
    assert.equal(seen[0], state)
    assert.equal(seen[seen.length - 1], 'completed')
    assert.deepEqual(await page.evaluate<string[]>("[...document.querySelectorAll('svg.statechart .state.current')].map(e => e.getAttribute('data-state-id'))"), ['drEvent.completed'])
    assert.equal(await page.locator('svg.interval-chart circle.point.delivered').count(), INTERVALS)
    await page.screenshot({ path: join(outputDir, 'event-completed.png'), fullPage: true })

    await page.goto(`${s.url}/`)
    assert.equal(await page.locator(`tr[data-event-id="${EVENT}"] .badge`).textContent(), 'completed')
    assert.deepEqual(outside, [], 'nothing is fetched from anywhere but the node')
    assert.deepEqual(errors, [])
  })

  it('follows an event of a real agent live, from its schedule to its completion, deviation and intra matchmaking included', async () => {
    a = await startAgentDashboard()
    await runDeviatingEvent(a, 'ev-live', 75_000)
    const { page, outside, errors } = await openPage(a.url)
    await page.goto(`${a.url}/events/ev-live`)
    await page.waitForFunction("document.getElementById('live').textContent === 'live'")
    await watchStates(page)
    const opened = await page.evaluate<string>('window.seen[0]')
    assert.ok(opened.startsWith('scheduled.'), `opened before the start: ${opened}`)
    await page.waitForFunction("document.querySelector('[data-event-id]').dataset.state.startsWith('active.')", undefined, { timeout: 20_000 })
    await page.screenshot({ path: join(outputDir, 'agent-event-active.png'), fullPage: true })
    await finished(a, 'ev-live')
    await page.waitForFunction("document.querySelector('[data-event-id]').dataset.state === 'completed'", undefined, { timeout: 10_000 })
    const seen = await page.evaluate<string[]>('window.seen')
    assert.ok(seen.length >= 3 && seen.includes('active.monitoring.waiting'), `the page changed state live: ${seen.join(' → ')}`)

    assert.deepEqual([...await drawnStates(page)].sort(), machineGraph(drEventMachine).states.map(st => st.id).sort())
    const current = await currentStates(page)
    assert.deepEqual(current, [{ id: 'drEvent.completed', fill: 'rgb(255, 213, 79)' }])
    const intra = await page.locator('#timeline li.step-intra').allTextContents()
    assert.ok(intra.some(t => t.includes('done: intraMatch')), 'the timeline lists the intra matchmaking step')
    assert.equal(await page.locator('svg.interval-chart circle.point.requested').count(), 3)
    assert.equal(await page.locator('svg.interval-chart circle.point.delivered').count(), 3)
    await page.screenshot({ path: join(outputDir, 'agent-event-completed.png'), fullPage: true })
    assert.deepEqual(outside, [])
    assert.deepEqual(errors, [])
  })
})
