import assert from 'node:assert/strict'
import { parseArgs } from '../../src/cli/simulate.js'
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
