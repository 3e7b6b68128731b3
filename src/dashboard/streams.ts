/**
 * Live event pages over server-sent events: one stream per open page, fed a fresh rendering of its event
 * (`EventFragments` as JSON) when it connects and after every change the view reports. Changes arriving
 * while a rendering is in flight coalesce into one more rendering, so a burst of transitions costs at most
 * two renderings per stream and the last one is always current.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EventFragments } from './pages.js'
import type { DashboardView } from './view.js'

export interface EventStreamsInit {
  /** Keep-alive comment interval (real ms). */
  heartbeatMs: number
}

export interface EventStreamsComponents {
  view: DashboardView
  render: (eventId: string) => Promise<EventFragments | undefined>
}

interface Watch { busy: boolean, dirty: boolean, clients: Set<ServerResponse> }

export class EventStreams {
  private readonly watches = new Map<string, Watch>()
  private unsubscribe: (() => void) | null = null
  private heartbeat: NodeJS.Timeout | null = null

  constructor (private readonly init: EventStreamsInit, private readonly components: EventStreamsComponents) {}

  start (): void {
    if (this.unsubscribe !== null) return
    this.unsubscribe = this.components.view.subscribe(change => {
      if (change.kind === 'event') this.changed(change.eventId)
    })
    this.heartbeat = setInterval(() => {
      for (const w of this.watches.values()) for (const res of w.clients) res.write(': keep-alive\n\n')
    }, this.init.heartbeatMs)
    this.heartbeat.unref()
  }

  stop (): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.heartbeat = null
    for (const w of this.watches.values()) for (const res of w.clients) res.end()
    this.watches.clear()
  }

  get openCount (): number {
    let n = 0
    for (const w of this.watches.values()) n += w.clients.size
    return n
  }

  async open (eventId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write('retry: 2000\n\n')
    const watch = this.watches.get(eventId) ?? { busy: false, dirty: false, clients: new Set<ServerResponse>() }
    this.watches.set(eventId, watch)
    watch.clients.add(res)
    req.once('close', () => {
      watch.clients.delete(res)
      if (watch.clients.size === 0 && this.watches.get(eventId) === watch) this.watches.delete(eventId)
    })
    const first = await this.components.render(eventId)
    if (first !== undefined) write(res, first)
  }

  private changed (eventId: string): void {
    const watch = this.watches.get(eventId)
    if (watch === undefined) return
    if (watch.busy) {
      watch.dirty = true
      return
    }
    watch.busy = true
    void this.push(eventId, watch)
  }

  private async push (eventId: string, watch: Watch): Promise<void> {
    try {
      do {
        watch.dirty = false
        const fragments = await this.components.render(eventId)
        if (fragments !== undefined) for (const res of watch.clients) write(res, fragments)
      } while (watch.dirty)
    } catch {
      // A failed rendering leaves the pages as they were; the next change renders again.
    } finally {
      watch.busy = false
    }
  }
}

function write (res: ServerResponse, fragments: EventFragments): void {
  res.write(`data: ${JSON.stringify(fragments)}\n\n`)
}
