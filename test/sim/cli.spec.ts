import assert from 'node:assert/strict'
import { help, parseArgs } from '../../src/cli/simulate.js'
import { SimulationError } from '../../src/sim/failures.js'
import { simulate } from '../../src/sim/run.js'

describe('cli/simulate arguments', () => {
  it('reads every flag into the simulation options', () => {
    const args = parseArgs(['--agents', '4', '--customers=200', '--intervals', '96', '--interval-seconds', '900', '--failure-rate', '0.25',
      '--seed', '3', '--strategy', 'intra', '--time-scale', '3600', '--events', '2', '--request-fraction', '0.5', '--json', 'out.json',
      '--html', 'out.html', '--baseline', 'false'])
    assert.notEqual(args, 'help')
    if (args === 'help') return
    assert.deepEqual(args.init, { agents: 4, customers: 200, intervals: 96, intervalSeconds: 900, failureRate: 0.25, seed: 3, strategy: 'intra', timeScale: 3600, events: 2, requestFraction: 0.5 })
    assert.equal(args.json, 'out.json')
    assert.equal(args.html, 'out.html')
    assert.equal(args.baseline, false)
    assert.equal(parseArgs(['--help']), 'help')
  })

  it('reads a node to kill (fraction 0.5 unless given) and a partition', () => {
    const args = parseArgs(['--kill-node', '2', '--partition', '0.3-0.6'])
    assert.notEqual(args, 'help')
    if (args === 'help') return
    assert.deepEqual(args.init.killNode, { agentIndex: 2, atFraction: 0.5 })
    assert.deepEqual(args.init.partition, { fromFraction: 0.3, toFraction: 0.6 })
    const other = parseArgs(['--kill-node=0@0.25', '--partition=0-1'])
    if (other === 'help') return assert.fail('not help')
    assert.deepEqual(other.init.killNode, { agentIndex: 0, atFraction: 0.25 })
    assert.deepEqual(other.init.partition, { fromFraction: 0, toFraction: 1 })
    assert.match(help(), /--kill-node I\[@F\]/)
    assert.match(help(), /--partition FROM-TO/)
  })

  it('a node to kill or a partition that cannot be is refused with what was expected', async () => {
    for (const bad of ['x', '-1', '1@1', '1@-0.2', '1.5', '1@', '@0.5']) assert.throws(() => parseArgs(['--kill-node', bad]), /--kill-node: .* INDEX@FRACTION/, bad)
    for (const bad of ['0.6-0.3', '0.3', '0.2-1.5', '0.4-0.4', 'a-b', '-0.1-0.5']) assert.throws(() => parseArgs(['--partition', bad]), /--partition: .* FROM-TO/, bad)
    await assert.rejects(simulate({ agents: 3, killNode: { agentIndex: 3, atFraction: 0.5 } }), /kill-node: no agent 3 \(agents are 0 to 2\)/)
    await assert.rejects(simulate({ agents: 3, partition: { fromFraction: 0.5, toFraction: 0.2 } }), /partition: need 0 ≤ FROM < TO ≤ 1/)
  })

  it('bad input gets a clear, named error', () => {
    assert.throws(() => parseArgs(['--agent', '4']), /unknown option '--agent'/)
    assert.throws(() => parseArgs(['--agents', '2.5']), /not an integer/)
    assert.throws(() => parseArgs(['--strategy', 'all']), /not one of none, intra, full/)
    assert.throws(() => parseArgs(['--seed']), SimulationError)
  })

  it('impossible simulation options are refused before any node starts', async () => {
    await assert.rejects(simulate({ agents: 0 }), /agents must be a positive integer/)
    await assert.rejects(simulate({ requestFraction: 1.5 }), /request-fraction/)
    await assert.rejects(simulate({ failureRate: 2, agents: 1, customers: 2, intervals: 1, timeScale: 100_000 }), /failure rate/)
  })
})
