import assert from 'node:assert/strict'
import { isLoopbackAddress } from '../../src/dashboard/dashboard.js'
import { EVENT, serveDashboard, startDeviatingEvent, type Served } from './fixture.js'

interface Sample { name: string, labels: Record<string, string>, value: number }
interface Family { name: string, type: string, help: string, samples: Sample[] }

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const types = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every family announced by HELP then TYPE,
 * every sample of a family it belongs to (histogram suffixes included), label values correctly escaped,
 * values parseable, no duplicate series, histogram buckets cumulative and ending at +Inf = _count.
 */
function parseExposition (text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'ends with a newline')
  const families = new Map<string, Family>()
  const series = new Set<string>()
  let current: Family | null = null
  for (const [n, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${n + 1}: ${line}`
    if (line === '') continue
    const help = /^# HELP (\S+) (.*)$/.exec(line)
    if (help !== null) {
      const name = help[1] as string
      assert.match(name, metricName, where)
      assert.ok(!families.has(name), `family ${name} announced twice`)
      current = { name, type: '', help: help[2] as string, samples: [] }
      families.set(name, current)
      continue
    }
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) {
      assert.equal(type[1], current?.name, `TYPE follows its HELP: ${where}`)
      assert.ok(types.has(type[2] as string), where)
      if (current !== null) current.type = type[2] as string
      continue
    }
    assert.ok(!line.startsWith('#'), `unexpected comment: ${where}`)
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line)
    assert.ok(sample !== null, `malformed sample: ${where}`)
    assert.ok(current !== null && current.type !== '', `sample before HELP/TYPE: ${where}`)
    const name = sample[1] as string
    const suffixes = current.type === 'histogram' ? ['_bucket', '_sum', '_count'] : current.type === 'summary' ? ['', '_sum', '_count'] : ['']
    assert.ok(suffixes.some(s => name === current?.name + s), `sample ${name} outside its family ${current.name}`)
    const labels = parseLabels(sample[3] ?? '', where)
    const raw = sample[4] as string
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw)
    assert.ok(raw === 'NaN' || !Number.isNaN(value), `value: ${where}`)
    const key = name + JSON.stringify(Object.entries(labels).sort())
    assert.ok(!series.has(key), `duplicate series: ${where}`)
    series.add(key)
    current.samples.push({ name, labels, value })
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function parseLabels (body: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = body
  while (rest !== '') {
    const m = /^([^=]+)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/.exec(rest)
    assert.ok(m !== null, `malformed labels: ${where}`)
    const name = m[1] as string
    assert.match(name, labelName, where)
    assert.ok(!(name in labels), `label ${name} twice: ${where}`)
    labels[name] = (m[2] as string).replace(/\\(["\\n])/g, (_, c: string) => c === 'n' ? '\n' : c)
    rest = rest.slice(m[0].length)
  }
  return labels
}

function checkHistogram (f: Family): void {
  const groups = new Map<string, Sample[]>()
  for (const s of f.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  for (const samples of groups.values()) {
    const buckets = samples.filter(s => s.name.endsWith('_bucket'))
    const count = samples.find(s => s.name.endsWith('_count'))
    assert.ok(count !== undefined && samples.some(s => s.name.endsWith('_sum')), `${f.name}: _sum and _count`)
    let previous = -Infinity
    let last = 0
    for (const b of buckets) {
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)
      assert.ok(le > previous, `${f.name}: buckets in increasing order`)
      assert.ok(b.value >= last, `${f.name}: buckets are cumulative`)
      previous = le
      last = b.value
    }
    assert.equal(previous, Infinity, `${f.name}: ends with +Inf`)
    assert.equal(last, count.value, `${f.name}: +Inf bucket equals _count`)
  }
}

const value = (f: Family | undefined, labels: Record<string, string> = {}): number | undefined =>
  f?.samples.find(s => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value

describe('dashboard: /metrics', function () {
  this.timeout(20_000)
  let s: Served
  afterEach(async () => { await s?.close() })

  it('scrapes cleanly and counts events by state, deviations, matchmaking, report lag, peers and HTTP latency', async () => {
    s = await serveDashboard()
    const { endMs } = startDeviatingEvent(s.view)
    await s.view.timers.advanceTo(endMs)
    assert.equal((await fetch(`${s.url}/events/${EVENT}`)).status, 200)
    const res = await fetch(`${s.url}/metrics`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const families = parseExposition(await res.text())
    assert.equal(value(families.get('adrmesh_events'), { state: 'completed' }), 1)
    const trail = (await s.view.event(EVENT))?.audit ?? []
    const intraRuns = trail.filter(a => a.stateAfter === 'active.intra').length
    assert.ok(intraRuns > 0)
    const deviations = families.get('adrmesh_deviations_total')?.samples.reduce((sum, x) => sum + x.value, 0)
    assert.equal(deviations, intraRuns)
    assert.equal(value(families.get('adrmesh_deviations_total'), { direction: 'shortage' }), 1, 'c2 drew 2 kW above its setpoint once before intra covered it')
    assert.equal(value(families.get('adrmesh_matchmaking_actions_total'), { kind: 'intra', outcome: 'covered' }), intraRuns)
    assert.equal(value(families.get('adrmesh_peers')), 1)
    assert.equal(value(families.get('adrmesh_report_lag_seconds'), { le: '60' }), 5)
    assert.equal(families.get('adrmesh_report_lag_seconds')?.samples.find(x => x.name.endsWith('_sum'))?.value, 150)
    assert.equal(value(families.get('adrmesh_http_request_duration_seconds'), { route: '/events/:id', method: 'GET', status: '200', le: '+Inf' }), 1)

    // A second scrape counts nothing twice.
    const again = parseExposition(await (await fetch(`${s.url}/metrics`)).text())
    assert.equal(again.get('adrmesh_deviations_total')?.samples.reduce((sum, x) => sum + x.value, 0), intraRuns)
  })

  it('tells loopback clients from others, for binding /metrics to loopback', () => {
    for (const a of ['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(a), a)
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1', undefined]) assert.ok(!isLoopbackAddress(a), String(a))
  })

  it('the strict reader rejects a malformed exposition', () => {
    assert.throws(() => parseExposition('x 1\n'))
    assert.throws(() => parseExposition('# HELP a b\n# TYPE a counter\na{l="x} 1\n'))
    assert.throws(() => parseExposition('# HELP a b\n# TYPE a counter\na 1\na 2\n'))
    assert.throws(() => parseExposition('# HELP h b\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'))
    assert.equal(parseExposition('# HELP a b\n# TYPE a gauge\na{l="q\\"x"} 1.5\n').get('a')?.samples[0]?.labels.l, 'q"x')
  })
})
