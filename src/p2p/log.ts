/**
 * The logger the mesh writes to: the pino subset it uses, so the agent passes its pino logger and a test
 * passes a recorder.
 */
import { pino } from 'pino'

export interface MeshLog {
  debug: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export function defaultMeshLog (): MeshLog {
  return pino({ name: 'adrmesh:p2p', level: 'warn' })
}
