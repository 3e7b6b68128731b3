/**
 * Group commit: the writes asked for during one turn of the event loop go to LevelDB as one batch, and
 * each caller's promise resolves once that batch is written (as durable as its own write would have been).
 * A node under load writes per message (a reading, a report, a snapshot): one native call per write costs
 * more than the write, and one batch of many costs little more than one.
 *
 * Each caller's operations stay together and in order inside the group, so a caller's atomic batch is
 * still atomic, and a later write of a key still wins over an earlier one. When the group's batch fails,
 * each caller's operations are written on their own, so one caller's bad operation fails only its caller.
 * Groups are written one after another, in the order their writes were asked for.
 */
interface Pending<Op> {
  ops: Op[]
  resolve: () => void
  reject: (err: unknown) => void
}

export class GroupCommit<Op> {
  private pending: Array<Pending<Op>> = []
  private running: Promise<void> | undefined

  /** `commit` writes one group's operations atomically. */
  constructor (private readonly commit: (ops: Op[]) => Promise<void>) {}

  /** Resolves once `ops` are written, with whatever else was asked for in this turn. */
  async write (ops: Op[]): Promise<void> {
    if (ops.length === 0) return
    const written = new Promise<void>((resolve, reject) => { this.pending.push({ ops, resolve, reject }) })
    this.running ??= this.pump()
    await written
  }

  /** Resolves once every write asked for so far is written (or has failed). */
  async drain (): Promise<void> {
    while (this.running !== undefined) await this.running
  }

  /**
   * One batch at a time: LevelDB runs batches on a thread pool, and two in flight may land in either order,
   * so a later write of a key could lose to an earlier one. What is asked while a batch is written goes in the next.
   */
  private async pump (): Promise<void> {
    // The rest of this turn's writes join the first group.
    await new Promise(resolve => setImmediate(resolve))
    while (this.pending.length > 0) {
      const group = this.pending
      this.pending = []
      await this.commitGroup(group)
    }
    this.running = undefined
  }

  private async commitGroup (group: Array<Pending<Op>>): Promise<void> {
    try {
      await this.commit(group.length === 1 ? (group[0] as Pending<Op>).ops : group.flatMap(p => p.ops))
      for (const p of group) p.resolve()
    } catch (err) {
      if (group.length === 1) {
        group[0]?.reject(err)
        return
      }
      for (const p of group) await this.commit(p.ops).then(p.resolve, p.reject)
    }
  }
}
