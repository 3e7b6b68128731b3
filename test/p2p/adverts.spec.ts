import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { advertTopic } from '../../src/p2p/constants.js'
import { loadOrCreateIdentity } from '../../src/p2p/identity.js'
import { encodeEnvelope, signEnvelope } from '../../src/p2p/signed.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { startMesh, MARKET_CONTEXT, waitUntil, recordingLog, type Mesh } from '../helpers/mesh.js'
import type { FlexAdvert } from '../../src/p2p/adverts.js'

const HOUR = 3_600_000
const SLOT = 15 * 60_000

function content (startMs: number, up: number[], down: number[]): Omit<FlexAdvert, 'peerId' | 'seq' | 'issuedAtMs'> {
  return { marketContext: MARKET_CONTEXT, validUntilMs: startMs + HOUR, startMs, intervalMs: SLOT, flexUpKw: up, flexDownKw: down }
}

describe('p2p flexibility advertisements', function () {
  this.timeout(60_000)
  let mesh: Mesh
  const log = recordingLog()

  before(async () => { mesh = await startMesh({ n: 4, components: { log } }) })
  after(async () => { await mesh?.stop() })

  it('an advertisement reaches every other node and feeds advertisedOffers', async () => {
    const now = Date.now()
    const [sender, ...others] = mesh.nodes
    const sent = await sender!.publishAdvert(content(now, [1, 2, 3, 4], [4, 3, 2, 1]))
    await waitUntil('advert at every node', () => others.every(n => n.port.advertisedOffers(MARKET_CONTEXT, Date.now()).some(o => o.peerId === sent.peerId)))
    for (const n of others) {
      const offer = n.port.advertisedOffers(MARKET_CONTEXT, Date.now()).find(o => o.peerId === sent.peerId)
      assert.deepEqual(offer, { peerId: sent.peerId, flexUpKw: [1, 2, 3, 4], flexDownKw: [4, 3, 2, 1], expiresAtMs: now + HOUR })
      assert.deepEqual(n.port.advertisedOffers(MARKET_CONTEXT, now + HOUR), [], 'an expired offer is not offered')
    }
  })

  it('a newer advertisement replaces the older one', async () => {
    const now = Date.now()
    const [sender, receiver] = mesh.nodes
    await sender!.publishAdvert(content(now, [5], [6]))
    await waitUntil('newer advert', () => receiver!.port.advertisedOffers(MARKET_CONTEXT, Date.now()).some(o => o.peerId === sender!.peerId.toString() && o.flexUpKw[0] === 5))
  })

  async function publishRaw (fromIndex: number, bytes: Uint8Array): Promise<void> {
    await mesh.nodes[fromIndex]!.libp2p.services.pubsub.publish(advertTopic(MARKET_CONTEXT), bytes)
  }

  async function expectRejected (forger: string, reason: RegExp, before: number): Promise<void> {
    const matching = (): boolean => log.entries.slice(before).some(e => e.msg === 'advertisement rejected' &&
      reason.test((e.obj as { err: string }).err) && (e.obj as { peerId: string }).peerId === forger)
    await waitUntil(`rejection of ${String(reason)}`, matching)
  }

  it('a forged advertisement (speaking for another peer) is rejected and scores the forger down', async () => {
    const forgerIndex = 2
    const forger = mesh.nodes[forgerIndex]!
    const victim = mesh.nodes[3]!.peerId.toString()
    const key = await loadOrCreateIdentity(mesh.dataDirs[forgerIndex]!)
    const now = Date.now()
    const rejectedBefore = log.entries.length
    const forged = { ...content(now, [999], [999]), peerId: victim, seq: now * 10, issuedAtMs: now }
    await publishRaw(forgerIndex, encodeEnvelope(await signEnvelope(key, 'flex-advert', forged)))
    await expectRejected(forger.peerId.toString(), /signature does not verify/, rejectedBefore)

    // A correctly signed advert of some other key, relayed by the forger as its own gossip, is rejected too.
    const stranger = await generateKeyPair('Ed25519')
    const strangerAdvert = { ...content(now, [7], [7]), peerId: peerIdFromPrivateKey(stranger).toString(), seq: 1, issuedAtMs: now }
    const before2 = log.entries.length
    await publishRaw(forgerIndex, encodeEnvelope(await signEnvelope(stranger, 'flex-advert', strangerAdvert)))
    await expectRejected(forger.peerId.toString(), /sent by/, before2)

    for (const n of mesh.nodes.filter(n => n !== forger)) {
      const offers = n.port.advertisedOffers(MARKET_CONTEXT, Date.now())
      assert.ok(!offers.some(o => o.flexUpKw[0] === 999 || o.flexUpKw[0] === 7), 'nothing forged is offered')
    }
    // The receivers that got it first-hand scored the forger below zero.
    await waitUntil('forger scored down', () => mesh.nodes.filter(n => n !== forger).some(n =>
      (n.adverts.gossipScore(forger.peerId.toString()) ?? 0) < 0))
  })

  it('a stale or replayed advertisement is rejected', async () => {
    const senderIndex = 1
    const sender = mesh.nodes[senderIndex]!
    const key = await loadOrCreateIdentity(mesh.dataDirs[senderIndex]!)
    const id = sender.peerId.toString()
    const now = Date.now()
    const before = log.entries.length
    const expired = { ...content(now - 2 * HOUR, [1], [1]), peerId: id, seq: now * 10, issuedAtMs: now - 2 * HOUR }
    await publishRaw(senderIndex, encodeEnvelope(await signEnvelope(key, 'flex-advert', expired)))
    await expectRejected(id, /stale advert: expired/, before)

    const current = await sender.publishAdvert(content(now, [8], [8]))
    await waitUntil('current advert', () => mesh.nodes[0]!.port.advertisedOffers(MARKET_CONTEXT, Date.now()).some(o => o.peerId === id && o.flexUpKw[0] === 8))
    const before2 = log.entries.length
    const replay = { ...current, flexUpKw: [88] }
    await publishRaw(senderIndex, encodeEnvelope(await signEnvelope(key, 'flex-advert', replay)))
    await expectRejected(id, /replayed advert/, before2)
    assert.equal(mesh.nodes[0]!.port.advertisedOffers(MARKET_CONTEXT, Date.now()).find(o => o.peerId === id)?.flexUpKw[0], 8)
  })

  it('an oversized or malformed advertisement is rejected', async () => {
    const id = mesh.nodes[1]!.peerId.toString()
    const before = log.entries.length
    await publishRaw(1, new TextEncoder().encode('{"not":"an envelope"'))
    await expectRejected(id, /not JSON/, before)
    const before2 = log.entries.length
    await publishRaw(1, new Uint8Array(20_000).fill(32))
    await expectRejected(id, /exceeds/, before2)
  })
})
