/**
 * Group commit: the writes asked for during one turn of the event loop go to LevelDB as one batch, and
 * each caller's promise resolves once that batch is written (as durable as its own write would have been).
 * A node under load writes per message (a reading, a report, a snapshot): one native call per write costs
 * more than the write, and one batch of many costs little more than one.
 *
 * Each caller's operations stay together and in order inside the group, so a caller's atomic batch is
 * still atomic, and a later write of a key still wins over an earlier one. When the group's batch fails,
 * each caller's operations are written on their own, so one caller's bad operation fails only its caller.
 */
interface Pending<Op> {
  ops: Op[]
  resolve: () => void
  reject: (err: unknown) => void
}

export class GroupCommit<Op> {
  private pending: Array<Pending<Op>> = []
  private scheduled: Promise<void> | undefined

  /** `commit` writes one group's operations atomically. */
  constructor (private readonly commit: (ops: Op[]) => Promise<void>) {}

  /** Resolves once `ops` are written, with whatever else was asked for in this turn. */
  async write (ops: Op[]): Promise<void> {
    if (ops.length === 0) return
    const written = new Promise<void>((resolve, reject) => { this.pending.push({ ops, resolve, reject }) })
    this.scheduled ??= new Promise<void>(done => { setImmediate(() => { void this.flush().finally(done) }) })
    await written
  }

  /** Resolves once every write asked for so far is written (or has failed). */
  async drain (): Promise<void> {
    while (this.scheduled !== undefined) await this.scheduled
  }

  private async flush (): Promise<void> {
    const group = this.pending
    this.pending = []
    this.scheduled = undefined
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
