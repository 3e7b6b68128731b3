/**
 * `npm run bench -- vtn [--json] [--duration S]`: oadrPoll throughput and latency over real HTTP. The server
 * runs in one child process, autocannon in another, at 1 and 16 keep-alive connections. The case that
 * counts is `vtn`: the real Vtn service with registered VENs, a registered venID polling, every payload
 * decoded by the strict codec. `transport` (the HTTP edge answering a fixed body) and `bare` (a bare Node
 * server) are the references its cost is read against. Prints req/s and p50/p99 latency per case, or one
 * JSON line per case with `--json`, with the server process's CPU time per request (`serverCpuUsPerReq`),
 * which a busy machine disturbs far less than the throughput.
 * Target on the 2-core machine: ≥ 18,000 oadrPoll/s and p99 < 5 ms at 16 connections.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { oadrServiceUrl } from '../src/openadr/http/paths.js'

const here = dirname(fileURLToPath(import.meta.url))
const autocannonBin = join(dirname(createRequire(import.meta.url).resolve('autocannon/package.json')), 'autocannon.js')

const pollBody = '<?xml version="1.0" encoding="UTF-8"?>\n<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">' +
  '<oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>ven-0</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>'

interface CaseResult { case: string, connections: number, reqPerSec: number, p50Ms: number, p99Ms: number, serverCpuUsPerReq: number }

interface AutocannonJson {
  requests: { average: number, total: number }
  latency: { p50: number, p99: number }
  non2xx: number
  errors: number
}

type ServerKind = 'vtn' | 'transport' | 'bare'

interface Server { child: ChildProcess, url: string, handler: string, cpuUs: () => Promise<number> }

async function startServer (kind: ServerKind): Promise<Server> {
  const child = spawn(process.execPath, [join(here, '_vtnServer.js'), kind], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const first = await lines.next()
  if (first.done === true) throw new Error('server child exited before listening')
  const ready = JSON.parse(first.value) as { url: string, handler: string }
  // The server's own CPU time, read before and after a case: its cost per request does not depend on how
  // much of the machine the load generator (or anything else running) takes.
  const cpuUs = async (): Promise<number> => {
    child.stdin?.write('cpu\n')
    const line = await lines.next()
    if (line.done === true) throw new Error('server child exited')
    return (JSON.parse(line.value) as { cpuUs: number }).cpuUs
  }
  return { child, ...ready, cpuUs }
}

/** The load is only worth measuring if the poll is answered as a VTN answers a registered VEN with nothing queued. */
async function checkAnswer (target: string): Promise<void> {
  const res = await fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: pollBody })
  const text = await res.text()
  if (res.status !== 200 || !text.includes('<ei:responseCode>200</ei:responseCode>') || !text.includes('ven-0')) {
    throw new Error(`oadrPoll answered HTTP ${res.status}: ${text.slice(0, 300)}`)
  }
}

async function load (url: string, connections: number, durationS: number): Promise<AutocannonJson> {
  const child = spawn(process.execPath, [autocannonBin, '--json', '-c', String(connections), '-d', String(durationS),
    '-m', 'POST', '-H', 'Content-Type=application/xml', '-b', pollBody, url], { stdio: ['ignore', 'pipe', 'inherit'] })
  const chunks: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => chunks.push(c))
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`autocannon exited with ${code}`)
  return JSON.parse(Buffer.concat(chunks).toString()) as AutocannonJson
}

/** Runs the 1- and 16-connection cases against one server kind. */
async function measure (kind: ServerKind, durationS: number, json: boolean): Promise<CaseResult[]> {
  const { child, url, handler, cpuUs } = await startServer(kind)
  try {
    const target = oadrServiceUrl(url, 'OadrPoll')
    await checkAnswer(target)
    await load(target, 4, 1) // warm-up: JIT, socket pools
    const results: CaseResult[] = []
    for (const connections of [1, 16]) {
      const cpuBefore = await cpuUs()
      const r = await load(target, connections, durationS)
      const cpuAfter = await cpuUs()
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx answers and ${r.errors} errors at ${connections} connections`)
      const result = {
        case: `oadrPoll-${handler}`, connections, reqPerSec: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99,
        serverCpuUsPerReq: Math.round((cpuAfter - cpuBefore) / Math.max(1, r.requests.total) * 10) / 10
      }
      results.push(result)
      if (json) console.log(JSON.stringify(result))
    }
    return results
  } finally {
    child.kill('SIGTERM')
  }
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const durationIndex = argv.indexOf('--duration')
  const durationS = durationIndex === -1 ? 5 : Number(argv[durationIndex + 1])
  const oadr = await measure('vtn', durationS, json)
  const transport = await measure('transport', durationS, json)
  const bare = await measure('bare', durationS, json)
  if (json) return
  console.log(`oadrPoll over HTTP, ${durationS} s per case; target ≥ 18,000 req/s and p99 < 5 ms at 16 connections`)
  for (const r of [...oadr, ...transport, ...bare]) {
    console.log(`  ${r.case.padEnd(20)} ${String(r.connections).padStart(2)} conn: ${r.reqPerSec.toLocaleString('en').padStart(7)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, server CPU ${r.serverCpuUsPerReq} µs/req`)
  }
  const at16 = (rs: CaseResult[]): number => rs.find(r => r.connections === 16)?.reqPerSec ?? Number.NaN
  const cpu16 = (rs: CaseResult[]): number => rs.find(r => r.connections === 16)?.serverCpuUsPerReq ?? Number.NaN
  console.log(`  vtn at 16 connections: ${(at16(oadr) / 18_000).toFixed(2)}× the target, ${(at16(oadr) / at16(transport)).toFixed(2)}× the HTTP edge alone, ${(at16(oadr) / at16(bare)).toFixed(2)}× a bare Node server, all measured in the same run`)
  console.log(`  server CPU per oadrPoll at 16 connections: vtn ${cpu16(oadr)} µs, HTTP edge ${cpu16(transport)} µs, bare Node ${cpu16(bare)} µs (${Math.round(1e6 / cpu16(oadr)).toLocaleString('en')} req/s per core for the vtn)`)
}
