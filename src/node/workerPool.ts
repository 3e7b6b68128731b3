/**
 * The worker pool: runs named pure tasks (dispatch solves, clustering, model training; the registry is
 * `workers/tasks.ts`) on `worker_threads`, so polls, interval timers and the mesh never stall behind a solve.
 * N workers share one FIFO queue. A task that throws rejects its caller alone; a worker that dies (crash,
 * exit, timeout) rejects its task and is replaced. Works under tsx (tests, the `.ts` sources) and compiled
 * (dist/): the worker entry is picked beside this module, and under tsx the worker registers tsx first.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { pino, type Logger } from 'pino'
import type { TaskReply, TaskRequest } from './workers/worker.js'

export interface WorkerPoolInit {
  /**
   * Worker threads.
   * @default max(1, cores − 1)
   */
  size?: number
  /**
   * Module whose `tasks` export maps task names to functions (URL or file URL string).
   * @default `workers/tasks` beside this module
   */
  registry?: URL | string
  /**
   * Real ms a task may run before its worker is terminated and replaced; 0 for no limit.
   * @default 0
   */
  taskTimeoutMs?: number
}

export interface WorkerPoolComponents {
  /** @default a silent pino logger */
  logger?: Logger
}

export interface RunOptions {
  /** Buffers in `input` to move to the worker instead of copying. */
  transfer?: ArrayBuffer[]
  /** @default the pool's taskTimeoutMs */
  timeoutMs?: number
}

export class WorkerTaskError extends Error {
  constructor (readonly task: string, readonly remoteName: string, message: string, readonly remoteStack?: string) {
    super(`task ${task} failed: ${remoteName}: ${message}`)
    this.name = 'WorkerTaskError'
  }
}

export class UnknownTaskError extends Error {
  constructor (readonly task: string) {
    super(`no task '${task}' in the worker registry`)
    this.name = 'UnknownTaskError'
  }
}

export class WorkerCrashedError extends Error {
  constructor (readonly task: string, detail: string) {
    super(`the worker running task ${task} died: ${detail}`)
    this.name = 'WorkerCrashedError'
  }
}

export class WorkerTaskTimeoutError extends Error {
  constructor (readonly task: string, readonly timeoutMs: number) {
    super(`task ${task} ran past ${timeoutMs} ms; its worker was replaced`)
    this.name = 'WorkerTaskTimeoutError'
  }
}

export class WorkerPoolStoppedError extends Error {
  constructor () {
    super('the worker pool is stopped')
    this.name = 'WorkerPoolStoppedError'
  }
}

interface Job {
  id: number
  task: string
  input: unknown
  transfer: ArrayBuffer[]
  timeoutMs: number
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  job?: Job
  timer?: NodeJS.Timeout
  /** Set when the pool ends this worker on purpose (timeout, stop), so its exit is no crash. */
  ending?: Error
}

const underTsx = import.meta.url.endsWith('.ts')
const extension = underTsx ? '.ts' : '.js'
const workerEntry = new URL(`./workers/worker${extension}`, import.meta.url)
const defaultRegistry = new URL(`./workers/tasks${extension}`, import.meta.url)

/**
 * On Node 20 `execArgv: ['--import', 'tsx']` does not reach a worker's entry module (ERR_UNKNOWN_FILE_EXTENSION),
 * so under tsx the worker starts from a bootstrap that registers tsx's loader, then imports the entry.
 */
function newWorker (workerData: unknown): Worker {
  if (!underTsx) return new Worker(workerEntry, { workerData })
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then(tsx => { tsx.register(); return import(${JSON.stringify(workerEntry.href)}) })`
  // The parent's `--import ./….ts` flags would fail in the worker before tsx is registered; the bootstrap
  // registers tsx and worker.ts imports the polyfills itself.
  return new Worker(bootstrap, { eval: true, workerData, execArgv: [] })
}

/**
 * The ESM build of `tsx/esm/api`. import.meta.resolve is not available in modules tsx runs, and
 * require.resolve picks the CommonJS build, which cannot be imported; so read the package's export map.
 */
function tsxApiUrl (): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json')
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>
  }).exports
  const path = exports['./esm/api']?.import?.default
  if (path === undefined) throw new Error('tsx has no ESM export for esm/api')
  return new URL(path, pathToFileURL(manifest)).href
}

export class WorkerPool {
  readonly size: number
  private readonly registry: string
  private readonly taskTimeoutMs: number
  private readonly log: Logger
  private readonly slots = new Set<Slot>()
  private readonly queue: Job[] = []
  private nextId = 1
  private running = false

  constructor (init: WorkerPoolInit = {}, components: WorkerPoolComponents = {}) {
    this.size = Math.max(1, Math.floor(init.size ?? availableParallelism() - 1))
    this.registry = (init.registry ?? defaultRegistry).toString()
    this.taskTimeoutMs = init.taskTimeoutMs ?? 0
    this.log = components.logger ?? pino({ level: 'silent' })
  }

  /** Starts the workers; rejects when they cannot load the task registry. */
  async start (): Promise<void> {
    this.running = true
    try {
      await Promise.all(Array.from({ length: this.size }, async () => { await this.spawn() }))
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** Rejects queued and running tasks with WorkerPoolStoppedError and ends the workers. */
  async stop (): Promise<void> {
    this.running = false
    for (const job of this.queue.splice(0)) job.reject(new WorkerPoolStoppedError())
    await Promise.all([...this.slots].map(async slot => { await this.end(slot, new WorkerPoolStoppedError()) }))
  }

  /** Runs `task` on `input` in a worker; resolves to its result. */
  async run<T = unknown> (task: string, input: unknown, options: RunOptions = {}): Promise<T> {
    if (!this.running) throw new WorkerPoolStoppedError()
    return await new Promise<T>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        task,
        input,
        transfer: options.transfer ?? [],
        timeoutMs: options.timeoutMs ?? this.taskTimeoutMs,
        resolve: resolve as (value: unknown) => void,
        reject
      })
      this.pump()
    })
  }

  get stats (): { workers: number, busy: number, queued: number } {
    return { workers: this.slots.size, busy: [...this.slots].filter(s => s.job !== undefined).length, queued: this.queue.length }
  }

  private async spawn (): Promise<void> {
    const worker = newWorker({ registry: this.registry })
    const slot: Slot = { worker }
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => { reject(new Error(`worker exited with code ${code} before it was ready`)) }
      worker.once('error', reject)
      worker.once('exit', onExit)
      worker.once('message', () => {
        worker.off('error', reject)
        worker.off('exit', onExit)
        resolve()
      })
    })
    if (!this.running) {
      // stopped while this replacement was starting
      await worker.terminate()
      return
    }
    worker.on('message', (reply: TaskReply) => { this.settle(slot, reply) })
    worker.on('error', err => { slot.ending ??= err })
    worker.on('exit', code => { this.exited(slot, code) })
    this.slots.add(slot)
    this.pump()
  }

  private pump (): void {
    for (const slot of this.slots) {
      if (slot.job !== undefined || slot.ending !== undefined) continue
      const job = this.queue.shift()
      if (job === undefined) return
      slot.job = job
      if (job.timeoutMs > 0) {
        slot.timer = setTimeout(() => { void this.end(slot, new WorkerTaskTimeoutError(job.task, job.timeoutMs)) }, job.timeoutMs)
      }
      const request: TaskRequest = { id: job.id, task: job.task, input: job.input }
      try {
        slot.worker.postMessage(request, job.transfer)
      } catch (err) {
        this.finish(slot)
        job.reject(err as Error)
      }
    }
  }

  private finish (slot: Slot): Job | undefined {
    const job = slot.job
    if (slot.timer !== undefined) clearTimeout(slot.timer)
    slot.job = undefined
    slot.timer = undefined
    return job
  }

  private settle (slot: Slot, reply: TaskReply): void {
    if (slot.job === undefined || slot.job.id !== reply.id) return
    const job = this.finish(slot) as Job
    if (reply.ok) job.resolve(reply.result)
    else if (reply.unknownTask === true) job.reject(new UnknownTaskError(job.task))
    else job.reject(new WorkerTaskError(job.task, reply.error.name, reply.error.message, reply.error.stack))
    this.pump()
  }

  private async end (slot: Slot, reason: Error): Promise<void> {
    slot.ending ??= reason
    await slot.worker.terminate()
  }

  private exited (slot: Slot, code: number): void {
    this.slots.delete(slot)
    const job = this.finish(slot)
    const reason = slot.ending
    if (job !== undefined) {
      job.reject(reason instanceof WorkerTaskTimeoutError || reason instanceof WorkerPoolStoppedError
        ? reason
        : new WorkerCrashedError(job.task, reason?.message ?? `exit code ${code}`))
    }
    if (!this.running) return
    this.log.warn({ code, task: job?.task, reason: reason?.message }, 'worker ended; replacing it')
    this.spawn().catch((err: unknown) => {
      this.log.error({ err }, 'a replacement worker failed to start')
      if (this.slots.size === 0) for (const queued of this.queue.splice(0)) queued.reject(new WorkerCrashedError(queued.task, 'no worker left'))
    })
  }
}
