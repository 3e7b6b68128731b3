import assert from 'node:assert/strict'
import { createActor, fromPromise } from 'xstate'
import { nodeMachine } from '../../src/machines/node.js'
import { settle } from './harness.js'

function run (startFails: boolean) {
  const steps: string[] = []
  const machine = nodeMachine.provide({
    actors: {
      startServices: fromPromise<void, { nodeId: string }>(async () => {
        steps.push('start')
        if (startFails) throw new Error('port in use')
      }),
      drain: fromPromise<void, { nodeId: string }>(async () => { steps.push('drain') })
    }
  })
  const actor = createActor(machine, { input: { nodeId: 'n1' } })
  actor.start()
  return { actor, steps }
}

describe('node chart', () => {
  it('starting → ready → draining → stopped', async () => {
    const { actor, steps } = run(false)
    assert.equal(actor.getSnapshot().value, 'starting')
    await settle()
    assert.equal(actor.getSnapshot().value, 'ready')
    actor.send({ type: 'SHUTDOWN', signal: 'SIGTERM' })
    assert.equal(actor.getSnapshot().value, 'draining')
    await settle()
    assert.equal(actor.getSnapshot().value, 'stopped')
    assert.deepEqual(steps, ['start', 'drain'])
  })

  it('a node that cannot start ends failed with the reason', async () => {
    const { actor } = run(true)
    await settle()
    assert.equal(actor.getSnapshot().value, 'failed')
    assert.match(actor.getSnapshot().context.failure ?? '', /port in use/)
  })
})
