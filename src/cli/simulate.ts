/**
 * `adrmesh simulate`: runs a seeded simulation over real nodes (src/sim/run.ts), with the `none` baseline on
 * the same seed for comparison, prints a progress bar and the summary table, and writes the JSON and HTML
 * reports when asked.
 */
import { writeFile } from 'node:fs/promises'
import { simulate, type SimulationInit } from '../sim/run.js'
import { progress } from '../sim/console.js'
import { consoleSummary, htmlOf, runDocument, type LabelledRun } from '../sim/report.js'
import { SimulationError } from '../sim/failures.js'

interface Flag {
  key: keyof SimulationInit | 'json' | 'html' | 'baseline'
  kind: 'int' | 'number' | 'strategy' | 'transport' | 'path' | 'bool' | 'kill' | 'partition'
  help: string
  def: string
  /** What VALUE looks like in the help, when not a plain value. */
  value?: string
}

/** Where in the event `--kill-node I` strikes without `@F`. */
const defaultKillFraction = 0.5

const flags: Record<string, Flag> = {
  '--agents': { key: 'agents', kind: 'int', help: 'virtual nodes', def: '3' },
  '--customers': { key: 'customers', kind: 'int', help: 'simulated customers per node', def: '50' },
  '--intervals': { key: 'intervals', kind: 'int', help: 'intervals per event', def: '16' },
  '--interval-seconds': { key: 'intervalSeconds', kind: 'number', help: 'interval length', def: '900' },
  '--failure-rate': { key: 'failureRate', kind: 'number', help: 'share of dispatched customers failing mid-event', def: '0.25' },
  '--seed': { key: 'seed', kind: 'int', help: 'seed of every random draw', def: '1' },
  '--strategy': { key: 'strategy', kind: 'strategy', help: 'none | intra | full', def: 'full' },
  '--time-scale': { key: 'timeScale', kind: 'number', help: 'never faster than N simulated ms per real ms', def: 'unpaced' },
  '--events': { key: 'events', kind: 'int', help: 'events one after another', def: '1' },
  '--request-fraction': { key: 'requestFraction', kind: 'number', help: 'request against the declared flexibility', def: '0.6' },
  '--checks-per-interval': { key: 'checksPerInterval', kind: 'int', help: 'node checkpoints per interval; customers poll and report as often', def: '12' },
  '--transport': { key: 'transport', kind: 'transport', help: 'customers to their node: xml | objects (decoded, no codec)', def: 'objects from 1000 customers per node' },
  '--kill-node': { key: 'killNode', kind: 'kill', value: 'I[@F]', help: `stop node I at fraction F of the event (default F ${defaultKillFraction}); it stays down`, def: '' },
  '--partition': { key: 'partition', kind: 'partition', value: 'FROM-TO', help: 'cut the mesh between even and odd nodes from fraction FROM to TO of each event', def: '' },
  '--json': { key: 'json', kind: 'path', help: 'write the figures as JSON to FILE', def: '' },
  '--html': { key: 'html', kind: 'path', help: 'write the HTML report to FILE', def: '' },
  '--baseline': { key: 'baseline', kind: 'bool', help: 'also run strategy none on the same seed (true | false)', def: 'true' }
}

export function help (): string {
  return [
    'Usage: adrmesh simulate [options]',
    '',
    'Runs real nodes (statecharts, stores, libp2p mesh on 127.0.0.1) with simulated customers and a utility,',
    'and reports intervals within ±5 % of the setpoint, energy delivered / requested and matchmaking actions.',
    'Simulated time is virtual: it moves to the next timer once the system is quiet, so a seeded run gives the',
    'same figures on any machine and runs as fast as the work allows (--time-scale caps it, e.g. to watch it).',
    '',
    'Options:',
    ...Object.entries(flags).map(([name, f]) => `  ${(`${name} ${f.value ?? 'VALUE'}`).padEnd(28)} ${f.help}${f.def === '' ? '' : ` [default: ${f.def}]`}`),
    `  ${'--help'.padEnd(28)} this text`
  ].join('\n')
}

export interface SimulateArgs { init: SimulationInit, json?: string, html?: string, baseline: boolean }

export function parseArgs (argv: string[]): SimulateArgs | 'help' {
  const init: Record<string, unknown> = {}
  const out: SimulateArgs = { init: init as SimulationInit, baseline: true }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') return 'help'
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg : arg.slice(0, eq)
    const flag = flags[name]
    if (flag === undefined) throw new SimulationError(`unknown option '${name}' (see --help)`)
    const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (raw === undefined) throw new SimulationError(`option ${name} needs a value`)
    if (flag.kind === 'path') { (out as unknown as Record<string, string>)[flag.key] = raw; continue }
    if (flag.kind === 'bool') {
      if (raw !== 'true' && raw !== 'false') throw new SimulationError(`${name}: '${raw}' is not true or false`)
      out.baseline = raw === 'true'
      continue
    }
    if (flag.kind === 'kill') { init.killNode = parseKillNode(raw); continue }
    if (flag.kind === 'partition') { init.partition = parsePartition(raw); continue }
    if (flag.kind === 'transport') {
      if (raw !== 'xml' && raw !== 'objects') throw new SimulationError(`${name}: '${raw}' is not xml or objects`)
      init[flag.key] = raw
      continue
    }
    if (flag.kind === 'strategy') {
      if (!['none', 'intra', 'full'].includes(raw)) throw new SimulationError(`${name}: '${raw}' is not one of none, intra, full`)
      init[flag.key] = raw
      continue
    }
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(n) || (flag.kind === 'int' && !Number.isInteger(n))) {
      throw new SimulationError(`${name}: '${raw}' is not ${flag.kind === 'int' ? 'an integer' : 'a number'}`)
    }
    init[flag.key] = n
  }
  return out
}

/** `I` or `I@F`: node index I killed at fraction F of the event. */
export function parseKillNode (raw: string): NonNullable<SimulationInit['killNode']> {
  const m = /^(\d+)(?:@([0-9.]+))?$/.exec(raw.trim())
  const atFraction = m?.[2] === undefined ? defaultKillFraction : Number(m[2])
  if (m === null || !(atFraction >= 0 && atFraction < 1)) {
    throw new SimulationError(`--kill-node: '${raw}' is not INDEX or INDEX@FRACTION with a fraction in [0, 1) (e.g. 1@0.5)`)
  }
  return { agentIndex: Number(m[1]), atFraction }
}

/** `FROM-TO`: fractions of the event, 0 ≤ FROM < TO ≤ 1. */
export function parsePartition (raw: string): NonNullable<SimulationInit['partition']> {
  const m = /^([0-9.]+)-([0-9.]+)$/.exec(raw.trim())
  const fromFraction = Number(m?.[1])
  const toFraction = Number(m?.[2])
  if (m === null || !(fromFraction >= 0 && fromFraction < toFraction && toFraction <= 1)) {
    throw new SimulationError(`--partition: '${raw}' is not FROM-TO with 0 ≤ FROM < TO ≤ 1 (e.g. 0.3-0.6)`)
  }
  return { fromFraction, toFraction }
}

export async function run (argv: string[]): Promise<number> {
  let args: SimulateArgs | 'help'
  try {
    args = parseArgs(argv)
  } catch (err) {
    console.error(`adrmesh simulate: ${(err as Error).message}`)
    return 2
  }
  if (args === 'help') { console.log(help()); return 0 }
  const strategy = args.init.strategy ?? 'full'
  const plan = [strategy, ...(args.baseline && strategy !== 'none' ? ['none' as const] : [])]
  const runs: LabelledRun[] = []
  try {
    for (const s of plan) {
      const bar = progress(1000, `strategy ${s.padEnd(5)}`, process.stderr)
      const result = await simulate({ ...args.init, strategy: s, onProgress: (done, total) => { bar.update(Math.floor(1000 * done / total)) } })
      bar.end()
      runs.push({ label: s, result })
    }
  } catch (err) {
    console.error(`adrmesh simulate: ${(err as Error).message}`)
    return err instanceof SimulationError ? 2 : 1
  }
  const doc = runDocument(runs[0] as LabelledRun, runs[1])
  console.log(consoleSummary(doc))
  if (args.json !== undefined) await writeFile(args.json, JSON.stringify(doc, null, 1))
  if (args.html !== undefined) await writeFile(args.html, htmlOf(doc, Number(doc.parameters.tolerance)))
  return 0
}
