/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, headless, no network but
 * loopback. Skips only when /usr/bin/chromium is absent (CI installs it with apt-get).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { drEventMachine } from '../../src/machines/drEvent.js'
import { machineGraph } from '../../src/dashboard/machineGraph.js'
import { MINUTE, T0 } from '../machines/harness.js'
import { EVENT, INTERVALS, serveDashboard, startDeviatingEvent, type Served } from './fixture.js'

const executablePath = '/usr/bin/chromium'
const outputDir = join(process.cwd(), 'test-output', 'dashboard')

describe('dashboard: in a real browser (chromium)', function () {
  this.timeout(60_000)
  let s: Served | undefined
  let context: BrowserContext | undefined
  let profile: string | undefined

  before(function () {
    if (!existsSync(executablePath)) {
      console.log(`    skipped: ${executablePath} is absent (apt-get install -y chromium)`)
      this.skip()
    }
  })

  afterEach(async () => {
    await context?.close()
    await s?.close()
    if (profile !== undefined) await rm(profile, { recursive: true, force: true })
  })

  it('shows the statechart, the intra matchmaking step and the chart of an event with a deviation, and follows it live', async () => {
    s = await serveDashboard()
    const { endMs } = startDeviatingEvent(s.view)
    // Interval 1 (from T0+25 min) is where c2 deviates; its checkpoints fall at +7.5 and +15 min.
    await s.view.timers.advanceTo(T0 + 10 * MINUTE + 15 * MINUTE + 16 * MINUTE)

    profile = await mkdtemp(join(tmpdir(), 'adrmesh-chromium-'))
    // A fresh profile per run: playwright passes it to chromium as --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-component-update', '--disable-sync']
    })
    const page = context.pages()[0] ?? await context.newPage()
    const outside: string[] = []
    page.on('request', r => { if (!r.url().startsWith(s?.url ?? '')) outside.push(r.url()) })
    const errors: string[] = []
    page.on('pageerror', e => { errors.push(e.message) })
    await page.goto(`${s.url}/events/${EVENT}`)
    // In-page code is written as strings: the project compiles without the DOM library.
    await page.waitForFunction("document.getElementById('live').textContent === 'live'")

    const drawn = await page.evaluate<string[]>("[...document.querySelectorAll('svg.statechart [data-state-id]')].map(e => e.getAttribute('data-state-id'))")
    assert.deepEqual([...drawn].sort(), machineGraph(drEventMachine).states.map(st => st.id).sort(), 'every state of the machine is drawn')

    const state = (await s.view.event(EVENT))?.state ?? ''
    assert.ok(state.startsWith('active.'), state)
    const current = await page.evaluate<Array<{ id: string, fill: string }>>(
      "[...document.querySelectorAll('svg.statechart .state.current')].map(e => ({ id: e.getAttribute('data-state-id'), fill: getComputedStyle(e.querySelector('rect')).fill }))")
    assert.deepEqual(current.map(c => c.id), [`drEvent.${state}`])
    assert.equal(current[0]?.fill, 'rgb(255, 213, 79)', 'the current state is drawn highlighted')

    const intra = await page.locator('#timeline li.step-intra').allTextContents()
    assert.ok(intra.some(t => t.includes('done: intraMatch')), `the timeline lists the intra matchmaking step: ${intra.join(' | ')}`)
    assert.equal(await page.locator('svg.interval-chart circle.point.requested').count(), INTERVALS, 'one requested point per interval')
    const deliveredSoFar = (await s.view.event(EVENT))?.intervals.filter(i => i.deliveredKw !== null).length
    assert.equal(await page.locator('svg.interval-chart circle.point.delivered').count(), deliveredSoFar)

    await mkdir(outputDir, { recursive: true })
    await page.screenshot({ path: join(outputDir, 'event-active.png'), fullPage: true })

    // Live: record every state the page shows while the event runs to its end.
    await page.evaluate(`{
      const root = document.querySelector('[data-event-id]')
      window.seen = [root.dataset.state]
      new MutationObserver(() => { if (window.seen[window.seen.length - 1] !== root.dataset.state) window.seen.push(root.dataset.state) })
        .observe(root, { attributes: true, attributeFilter: ['data-state'] })
    }`)
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
})
