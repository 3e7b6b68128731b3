/**
 * `adrmesh demo` (`npm start`): the first thing a newcomer runs. Three nodes on 127.0.0.1, fifty simulated
 * customers each, one seeded LOAD_DISPATCH event with a quarter of the dispatched customers failing
 * mid-event, matchmaking on; node 0's dashboard and JSON API are served while it runs (its URL is
 * printed), and the summary table and an HTML report follow.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { ApiServer } from '../node/apiServer.js'
import { AgentDashboardView, Dashboard } from '../dashboard/index.js'
import { simulate } from '../sim/run.js'
import { progress } from '../sim/console.js'
import { consoleSummary, htmlOf, runDocument } from '../sim/report.js'

export async function run (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('Usage: adrmesh demo\n\nThree nodes × 50 customers, one event with failures, matchmaking on; prints a node\'s URL, the summary and the report path.')
    return 0
  }
  let server: ApiServer | undefined
  let dashboard: Dashboard | undefined
  const bar = progress(1000, 'event', process.stderr)
  const result = await simulate({
    agents: 3,
    customers: 50,
    intervals: 8,
    failureRate: 0.25,
    seed: 1,
    strategy: 'full',
    timeScale: 600,
    onReady: (agents, openadr) => {
      const agent = agents[0]
      if (agent === undefined) return
      const board = new Dashboard({}, { view: new AgentDashboardView(agent), clock: openadr.clock })
      dashboard = board
      server = new ApiServer({ host: '127.0.0.1', port: 0 }, { agent, ...(openadr.customerVtns[0] === undefined ? {} : { pull: openadr.customerVtns[0] }), front: async (req, res) => await board.handle(req, res) })
      const s = server
      board.start().then(async () => { await s.start() }).then(() => {
        process.stderr.write(`node agent-0's dashboard while the event runs: ${s.url}/\n`)
      }, err => { process.stderr.write(`could not serve node agent-0: ${(err as Error).message}\n`) })
    },
    onProgress: (done, total) => { bar.update(Math.floor(1000 * done / total)) }
  }).finally(async () => { await server?.stop(); await dashboard?.stop() })
  bar.end()
  const doc = runDocument({ label: 'full', result })
  console.log(consoleSummary(doc))
  const html = join(tmpdir(), 'adrmesh-demo.html')
  await writeFile(html, htmlOf(doc, Number(doc.parameters.tolerance)))
  console.log(`\nreport: ${html}\nnext: adrmesh simulate --help (compare strategies, scale up, --json/--html)`)
  return 0
}
