/**
 * A worker thread of the pool: loads the task registry named in `workerData.registry`, says `ready`, then
 * runs each `{ id, task, input }` it is sent and answers `{ id, ok, result | error }`. ArrayBuffers in a
 * result are transferred, not copied. A task that throws answers an error; only a crash ends the thread.
 */
import '../../util/polyfills.js'
import { parentPort, workerData } from 'node:worker_threads'
import type { Task } from './tasks.js'

export interface TaskRequest { id: number, task: string, input: unknown }
export type TaskReply =
  | { id: number, ok: true, result: unknown }
  | { id: number, ok: false, unknownTask?: true, error: { name: string, message: string, stack?: string } }

const port = parentPort
if (port === null) throw new Error('worker.ts runs only as a worker thread')
const { registry } = workerData as { registry: string }
const { tasks } = await import(registry) as { tasks: Record<string, Task> }

port.on('message', (request: TaskRequest) => {
  void runTask(request).then(
    ([reply, transfer]) => { port.postMessage(reply, transfer) },
    (err: unknown) => { port.postMessage(errorReply(request.id, err)) })
})
port.postMessage({ ready: true })

async function runTask ({ id, task, input }: TaskRequest): Promise<[TaskReply, ArrayBuffer[]]> {
  const fn = tasks[task]
  if (fn === undefined) {
    return [{ id, ok: false, unknownTask: true, error: { name: 'UnknownTaskError', message: `no task '${task}'` } }, []]
  }
  const result = await fn(input)
  return [{ id, ok: true, result }, transferables(result)]
}

function errorReply (id: number, err: unknown): TaskReply {
  const e = err instanceof Error ? err : new Error(String(err))
  return { id, ok: false, error: { name: e.name, message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) } }
}

/** Whole ArrayBuffers in the result; a view on part of a buffer (Node's Buffer pool) is copied instead. */
function transferables (value: unknown, found = new Set<ArrayBuffer>(), depth = 0): ArrayBuffer[] {
  if (depth > 4 || value === null || typeof value !== 'object') return [...found]
  if (value instanceof ArrayBuffer) found.add(value)
  else if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) found.add(value.buffer)
  } else {
    for (const item of Array.isArray(value) ? value : Object.values(value)) transferables(item, found, depth + 1)
  }
  return [...found]
}
