import { strict as assert } from 'node:assert'
import type { Commitment, CoverRequest } from '../../src/node/interMatchmaking.js'
import { askPeersInOrder } from '../../src/p2p/askInOrder.js'

const base: CoverRequest = {
  requestId: 'r', eventRef: { nodeId: 'n', eventId: 'e' }, marketContext: 'mc', startMs: 0, intervalMs: 900_000,
  amountsKw: [-10, -6], signalType: 'delta', deadlineMs: 1, hopLimit: 0, path: ['n']
}

describe('p2p askPeersInOrder', () => {
  it('asks each next peer only for what is still uncovered, and stops once covered', async () => {
    const asked: Array<[string, number[]]> = []
    const answers: Record<string, (r: CoverRequest) => Commitment | Error> = {
      p1: () => new Error('connection reset'),
      p2: r => ({ requestId: r.requestId, peerId: 'p2', accepted: false, committedKw: [0, 0], reason: 'full' }),
      p3: r => ({ requestId: r.requestId, peerId: 'p3', accepted: true, committedKw: [-4, -6] }),
      p4: r => ({ requestId: r.requestId, peerId: 'p4', accepted: true, committedKw: r.amountsKw }),
      p5: () => { throw new Error('must not be asked') }
    }
    const walk = await askPeersInOrder(['p1', 'p2', 'p3', 'p4', 'p5'], base, async (peer, r) => {
      asked.push([peer, r.amountsKw])
      const a = answers[peer]!(r)
      if (a instanceof Error) throw a
      return a
    })
    assert.deepEqual(asked, [['p1', [-10, -6]], ['p2', [-10, -6]], ['p3', [-10, -6]], ['p4', [-6, 0]]])
    assert.deepEqual(walk.failures.map(f => f.peerId), ['p1'])
    assert.deepEqual(walk.refusals, [{ peerId: 'p2', reason: 'full' }])
    assert.deepEqual(walk.commitments.map(c => c.peerId), ['p3', 'p4'])
    assert.deepEqual(walk.remainingKw, [0, 0])
  })

  it('reports what is left when the peers run out', async () => {
    const walk = await askPeersInOrder(['p1'], base, async (_p, r) => ({ requestId: r.requestId, peerId: 'p1', accepted: true, committedKw: [-1, 0] }))
    assert.deepEqual(walk.remainingKw, [-9, -6])
  })
})
