/**
 * A partition of the simulated mesh, for real: while the plan's partition lasts, every node refuses the
 * fellows of the other group (their connections close and the connection gater denies new ones, src/p2p
 * `MeshNode.block`), so gossip and cover requests stay within a group; when it ends, the nodes let each other
 * in again, redial across the former cut and wait until gossip subscriptions span the whole mesh again.
 */
import { advertTopic } from '../p2p/constants.js'
import type { FailurePlan } from './failures.js'
import { SimulationError } from './failures.js'
import { marketContext, type SimNode } from './nodes.js'

/** Real ms the healed mesh may take to re-form before the run fails. */
const healTimeoutMs = 30_000

export class MeshCut {
  private cut = false

  constructor (private readonly nodes: SimNode[], private readonly plan: FailurePlan) {}

  /** Whether nodes `a` and `b` (indices) can reach each other as the mesh stands. */
  reachable (a: number, b: number): boolean {
    const groups = this.plan.partition?.groups
    return !this.cut || groups === undefined || groups.some(g => g.includes(a) && g.includes(b))
  }

  /** Cuts or heals the mesh as the plan says for `nowMs`. */
  async update (nowMs: number): Promise<void> {
    const p = this.plan.partition
    const want = p !== undefined && nowMs >= p.fromMs && nowMs < p.toMs
    if (want === this.cut) return
    if (want) await this.apply()
    else await this.heal()
  }

  private across (): Array<{ n: SimNode, others: SimNode[] }> {
    const live = this.nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.alive && n.mesh !== undefined)
    const groups = this.plan.partition?.groups ?? []
    const groupOf = (i: number): number => groups.findIndex(g => g.includes(i))
    return live.map(({ n, i }) => ({ n, others: live.filter(o => groupOf(o.i) !== groupOf(i)).map(o => o.n) }))
  }

  private async apply (): Promise<void> {
    this.cut = true
    await Promise.all(this.across().map(async ({ n, others }) => { await n.mesh?.block(others.map(o => o.agent.config.nodeId)) }))
  }

  private async heal (): Promise<void> {
    this.cut = false
    const pairs = this.across()
    for (const { n, others } of pairs) n.mesh?.unblock(others.map(o => o.agent.config.nodeId))
    // Each pair is dialled once, from the node listed first.
    await Promise.all(pairs.flatMap(({ n, others }) => others.filter(o => this.nodes.indexOf(o) > this.nodes.indexOf(n)).map(async o => {
      const addr = o.mesh?.multiaddrs[0]
      if (addr !== undefined) await n.mesh?.libp2p.dial(addr)
    })))
    const topic = advertTopic(marketContext)
    const missing = (): string[] => pairs.flatMap(({ n, others }) => {
      const subscribers = new Set(n.mesh?.libp2p.services.pubsub.getSubscribers(topic).map(p => p.toString()))
      return others.filter(o => !subscribers.has(o.agent.config.nodeId)).map(o => `${o.label} → ${n.label}`)
    })
    const until = performance.now() + healTimeoutMs
    while (missing().length > 0) {
      if (performance.now() > until) throw new SimulationError(`the mesh did not re-form within ${healTimeoutMs / 1000} s after the partition: ${missing().join(', ')}`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
}
