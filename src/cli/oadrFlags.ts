/**
 * What `adrmesh vtn` and `adrmesh ven` share: the run loop of a role (flags, help, start, wait for a signal,
 * stop), the TLS and signature flags (read into OadrSecurityInit), the usage error, and the event description
 * an operator writes as JSON (read into a NewEvent).
 */
import { readFile } from 'node:fs/promises'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { pino, type Logger } from 'pino'
import { powerRealKw } from '../openadr/model/index.js'
import type { EventSignal, ResponseRequired, SignalName, SignalType } from '../openadr/model/event.js'
import { signalNames, signalTypes } from '../openadr/model/event.js'
import type { OadrSecurityInit } from '../openadr/http/endpoint.js'
import type { NewEvent } from '../openadr/vtn/events.js'
import { parseDateTime } from '../openadr/codec/index.js'
import { oadrFingerprintOfPem } from '../openadr/security/fingerprint.js'

export type RoleFlags = SecurityFlags & Record<string, string | boolean | string[] | undefined>

export interface RoleInit {
  role: 'vtn' | 'ven'
  help: string
  options: NonNullable<ParseArgsConfig['options']>
  /** Starts the role; resolves to its stop function. */
  start: (flags: RoleFlags, log: Logger) => Promise<() => Promise<void>>
  /** A start error that means "stopped on request before it was up": exit 0. */
  stoppedEarly?: (err: unknown) => boolean
}

/** Runs a stand-alone role until SIGINT or SIGTERM; resolves to the exit code (2 usage, 1 failed start). */
export async function runRole (argv: string[], init: RoleInit): Promise<number> {
  let flags: RoleFlags
  try {
    flags = parseArgs({
      args: argv,
      options: { ...init.options, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...securityFlagOptions },
      strict: true
    }).values as RoleFlags
  } catch (err) {
    console.error(`adrmesh ${init.role}: ${(err as Error).message}\n\n${init.help}`)
    return 2
  }
  if (flags.help === true) {
    console.log(init.help)
    return 0
  }
  const log = pino({ level: (flags['log-level'] as string | undefined) ?? 'info', base: { role: init.role } })
  let stop: () => Promise<void>
  try {
    stop = await init.start(flags, log)
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`adrmesh ${init.role}: ${err.message}\n\n${init.help}`)
      return 2
    }
    if (init.stoppedEarly?.(err) === true) return 0
    log.error({ err: (err as Error).message }, `${init.role.toUpperCase()} failed to start`)
    return 1
  }
  const signal = await new Promise<string>(resolve => {
    process.once('SIGINT', () => { resolve('SIGINT') })
    process.once('SIGTERM', () => { resolve('SIGTERM') })
  })
  log.info({ signal }, 'shutting down')
  await stop()
  return 0
}

/** A command line that cannot run: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export const securityFlagsHelp = `Security (plain HTTP without these):
  --tls-cert FILE        this end's certificate (PEM): HTTPS with client certificates
  --tls-key FILE         its private key (PEM)
  --tls-ca FILE          CA certificate(s) (PEM) the other end's certificate must chain to
  --sign                 sign every payload (XML-DSig, rsa-sha256 or ecdsa-sha256 after the key) with
                         --sign-cert/--sign-key, or the TLS certificate and key
  --sign-cert FILE, --sign-key FILE
  --require-signature    refuse unsigned payloads (463)
  --trusted-ca FILE      CA that signing certificates must chain to (default: --tls-ca)`

export const securityFlagOptions = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  sign: { type: 'boolean' },
  'sign-cert': { type: 'string' },
  'sign-key': { type: 'string' },
  'require-signature': { type: 'boolean' },
  'trusted-ca': { type: 'string' }
} as const

export interface SecurityFlags {
  'tls-cert'?: string
  'tls-key'?: string
  'tls-ca'?: string
  sign?: boolean
  'sign-cert'?: string
  'sign-key'?: string
  'require-signature'?: boolean
  'trusted-ca'?: string
}

async function pem (path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

export async function readSecurityFlags (flags: SecurityFlags): Promise<OadrSecurityInit> {
  const security: OadrSecurityInit = {}
  const tlsGiven = [flags['tls-cert'], flags['tls-key'], flags['tls-ca']].filter(f => f !== undefined).length
  if (tlsGiven !== 0 && tlsGiven !== 3) throw new UsageError('--tls-cert, --tls-key and --tls-ca go together')
  if (flags['tls-cert'] !== undefined && flags['tls-key'] !== undefined && flags['tls-ca'] !== undefined) {
    security.tls = { cert: await pem(flags['tls-cert'], 'tls-cert'), key: await pem(flags['tls-key'], 'tls-key'), ca: await pem(flags['tls-ca'], 'tls-ca') }
  }
  if (flags.sign === true || flags['sign-cert'] !== undefined) {
    const certPath = flags['sign-cert'] ?? flags['tls-cert']
    const keyPath = flags['sign-key'] ?? flags['tls-key']
    if (certPath === undefined || keyPath === undefined) throw new UsageError('--sign needs --sign-cert and --sign-key (or --tls-cert and --tls-key)')
    security.signWith = { cert: await pem(certPath, 'sign-cert'), key: await pem(keyPath, 'sign-key') }
  }
  if (flags['require-signature'] === true || security.signWith !== undefined) {
    const caPath = flags['trusted-ca'] ?? flags['tls-ca']
    security.verify = {
      requireSignature: flags['require-signature'] === true,
      ...(caPath === undefined ? {} : { trustedCa: [await pem(caPath, 'trusted-ca')] })
    }
  }
  return security
}

/**
 * This end's OpenADR certificate fingerprint, for the log: the other end's operator binds it (a VTN to the
 * VEN's venID, a VEN to its VTN for signature checks).
 */
export function fingerprintOf (security: OadrSecurityInit): { fingerprint?: string } {
  const cert = security.tls?.cert ?? security.signWith?.cert
  return cert === undefined ? {} : { fingerprint: oadrFingerprintOfPem(cert) }
}

export function portOf (value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--${flag} must be a port number, got '${value}'`)
  return port
}

export function positiveNumberOf (value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, got '${value}'`)
  return n
}

export const eventJsonHelp = `Event JSON (--event-file, POST /events): one object or a list of them:
  { "eventID": "dr-1",                         optional (a UUID)
    "marketContext": "http://utility.example", optional
    "start": "2026-06-01T14:00:00Z",           or "startInSeconds": 300 (from now)
    "venIDs": ["ven-1"], "groupIDs": [],       targets (default: every VEN, also those registering later)
    "responseRequired": "always",              or "never"
    "signals": [{ "signalName": "LOAD_DISPATCH", "signalType": "setpoint",   (kW for LOAD_DISPATCH)
                  "intervals": [{ "minutes": 15, "value": 120 }, { "minutes": 15, "value": 90 }] }] }`

/**
 * The group every registered VEN belongs to (the VTN command keeps it up to date): an event without
 * targets is for it, sent with an empty eiTarget, which 2.0b VENs read as "for everyone".
 */
export const everyVenGroup = 'adrmesh-every-ven'

/** An operator's event description, checked field by field. */
export function eventFromJson (json: unknown, nowMs: number): NewEvent {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError('an event must be a JSON object')
  const o = json as Record<string, unknown>
  const str = (key: string): string | undefined => {
    const v = o[key]
    if (v !== undefined && typeof v !== 'string') throw new UsageError(`event.${key} must be a string`)
    return v
  }
  const strings = (key: string): string[] | undefined => {
    const v = o[key]
    if (v === undefined) return undefined
    if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new UsageError(`event.${key} must be a list of strings`)
    return v as string[]
  }
  let dtstartMs: number
  const start = str('start')
  if (start !== undefined) {
    const parsed = parseDateTime(start)
    if (parsed === undefined) throw new UsageError(`event.start '${start}' is not an xs:dateTime such as 2026-06-01T14:00:00Z`)
    dtstartMs = parsed
  } else if (typeof o.startInSeconds === 'number' && Number.isFinite(o.startInSeconds)) {
    dtstartMs = nowMs + Math.round(o.startInSeconds * 1000)
  } else {
    throw new UsageError('an event needs "start" (date-time) or "startInSeconds"')
  }
  const responseRequired = str('responseRequired') ?? 'always'
  if (responseRequired !== 'always' && responseRequired !== 'never') throw new UsageError('event.responseRequired must be "always" or "never"')
  if (!Array.isArray(o.signals) || o.signals.length === 0) throw new UsageError('an event needs a non-empty "signals" list')
  const signals = o.signals.map((s, i) => signalFromJson(s, i))
  const venIDs = strings('venIDs')
  const groupIDs = strings('groupIDs')
  const eventID = str('eventID')
  return {
    ...(eventID === undefined ? {} : { eventID }),
    marketContext: str('marketContext') ?? 'http://adrmesh.example/dr',
    dtstartMs,
    signals,
    ...(venIDs === undefined && groupIDs === undefined
      ? { targets: { groupIDs: [everyVenGroup] }, eiTarget: {} }
      : { targets: { ...(venIDs === undefined ? {} : { venIDs }), ...(groupIDs === undefined ? {} : { groupIDs }) } }),
    responseRequired: responseRequired as ResponseRequired
  }
}

function signalFromJson (json: unknown, index: number): EventSignal {
  if (typeof json !== 'object' || json === null) throw new UsageError(`signals[${index}] must be an object`)
  const s = json as Record<string, unknown>
  const signalName = typeof s.signalName === 'string' ? s.signalName : 'LOAD_DISPATCH'
  const signalType = typeof s.signalType === 'string' ? s.signalType : 'setpoint'
  if (!(signalNames as readonly string[]).includes(signalName) && !signalName.startsWith('x-')) throw new UsageError(`signals[${index}].signalName '${signalName}' is not a 2.0b signal name`)
  if (!(signalTypes as readonly string[]).includes(signalType) && !signalType.startsWith('x-')) throw new UsageError(`signals[${index}].signalType '${signalType}' is not a 2.0b signal type`)
  if (!Array.isArray(s.intervals) || s.intervals.length === 0) throw new UsageError(`signals[${index}] needs a non-empty "intervals" list`)
  const intervals = s.intervals.map((iv: unknown, j: number) => {
    const { minutes, value } = (iv ?? {}) as { minutes?: unknown, value?: unknown }
    if (typeof minutes !== 'number' || !(minutes > 0) || typeof value !== 'number' || !Number.isFinite(value)) {
      throw new UsageError(`signals[${index}].intervals[${j}] needs "minutes" > 0 and a numeric "value"`)
    }
    return { durationMs: Math.round(minutes * 60_000), uid: String(j), values: [value] }
  })
  return {
    signalName: signalName as SignalName,
    signalType: signalType as SignalType,
    signalID: typeof s.signalID === 'string' ? s.signalID : `signal-${index}`,
    ...(signalName === 'LOAD_DISPATCH' ? { itemBase: powerRealKw() } : {}),
    intervals
  }
}
