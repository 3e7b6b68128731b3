/**
 * Worker thread of bench/dispatch.ts: solves one seeded synthetic dispatch problem with HiGHS and posts how
 * it ended. A thread of its own because HiGHS's `time_limit` is not honoured in every phase of a MILP solve
 * (a 1,000 × 96 solve ran far past it here): the bench terminates this worker at its wall-clock limit.
 */
import '../src/util/polyfills.js'
import { parentPort, workerData } from 'node:worker_threads'
import { dispatchWithHighs, loadHighs, type HighsDispatchInit } from '../src/actors/dispatch/highsModel.js'
import { syntheticProblem, type SyntheticProblemInit } from '../src/actors/dispatch/syntheticProblem.js'

export interface HighsReferenceJob { problem: SyntheticProblemInit, highs: HighsDispatchInit }
export interface HighsReferenceReply { status: string, objective: number, mipGap: number, ms: number }

const port = parentPort
if (port === null) throw new Error('_highsReference.ts runs only as a worker thread')
const job = workerData as HighsReferenceJob
await loadHighs()
const problem = syntheticProblem(job.problem)
const started = performance.now()
const result = await dispatchWithHighs(problem, job.highs)
const reply: HighsReferenceReply = { status: result.status, objective: result.objective, mipGap: result.mipGap, ms: performance.now() - started }
port.postMessage(reply)
