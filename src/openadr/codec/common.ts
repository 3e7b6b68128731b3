/**
 * Encoding and decoding of the parts several services share: eiResponse, eiTarget, emix item bases,
 * xcal properties and durations, and stream intervals.
 */
import type { ActivePeriod, EiResponse, EiTarget, ItemBase, ItemBaseElement, SiScaleCode } from '../model/common.js'
import { energyItemElements, oadrItemElements, powerItemElements, siScaleCodes } from '../model/common.js'
import { InvalidDataError, SchemaViolationError } from '../errors.js'
import { NS } from './namespaces.js'
import { Seq, bool, dateTime, duration, enumeration, float, readSeq, text, token } from './reader.js'
import type { XmlElement } from './xml.js'
import { boolText, durationProp, dtstart, each, el, esc, floatText, leaf, optLeaf } from './writer.js'
import { formatDuration } from './time.js'

// ---- eiResponse ----

export function encodeEiResponse (r: EiResponse, qname = 'ei:eiResponse'): string {
  return el(qname, leaf('ei:responseCode', r.responseCode) + optLeaf('ei:responseDescription', r.responseDescription) +
    leaf('pyld:requestID', r.requestID))
}

export function responseCodeText (e: XmlElement): string {
  const code = text(e)
  if (!/^[0-9]{3}$/.test(code)) throw new SchemaViolationError(`responseCode '${code.slice(0, 20)}' is not three digits`)
  return code
}

export function decodeEiResponse (e: XmlElement): EiResponse {
  return readSeq(e, s => {
    const responseCode = responseCodeText(s.one(NS.ei, 'responseCode'))
    const description = s.opt(NS.ei, 'responseDescription')
    const requestID = text(s.one(NS.pyld, 'requestID'))
    return description === undefined ? { responseCode, requestID } : { responseCode, responseDescription: text(description), requestID }
  })
}

// ---- eiTarget ----

const nodeTargets = [['aggregatedPnode', 'node'], ['endDeviceAsset', 'mrid'], ['meterAsset', 'mrid'], ['pnode', 'node']] as const
const eiTargets = ['groupID', 'groupName', 'resourceID', 'venID', 'partyID'] as const

export function encodeEiTarget (t: EiTarget, qname = 'ei:eiTarget'): string {
  let out = ''
  for (const [name, inner] of nodeTargets) out += each(t[name], v => el(`power:${name}`, leaf(`power:${inner}`, v)))
  out += each(t.serviceDeliveryPoint, v => el('power:serviceDeliveryPoint', leaf('power:node', v)))
  out += each(t.transportInterface, v => el('power:transportInterface',
    leaf('power:pointOfReceipt', v.pointOfReceipt) + leaf('power:pointOfDelivery', v.pointOfDelivery)))
  for (const name of eiTargets) out += each(t[name], v => leaf(`ei:${name}`, v))
  return el(qname, out)
}

export function decodeEiTarget (e: XmlElement): EiTarget {
  return readSeq(e, s => {
    const t: EiTarget = {}
    for (const [name, inner] of nodeTargets) {
      const found = s.many(NS.power, name).map(x => readSeq(x, i => text(i.one(NS.power, inner))))
      if (found.length > 0) t[name] = found
    }
    if (s.opt(NS.emix, 'serviceArea') !== undefined) throw new InvalidDataError('serviceArea targets are not supported')
    const sdp = s.many(NS.power, 'serviceDeliveryPoint').map(x => readSeq(x, i => text(i.one(NS.power, 'node'))))
    if (sdp.length > 0) t.serviceDeliveryPoint = sdp
    if (s.opt(NS.power, 'serviceLocation') !== undefined) throw new InvalidDataError('serviceLocation targets are not supported')
    const ti = s.many(NS.power, 'transportInterface').map(x => readSeq(x, i => ({
      pointOfReceipt: text(i.one(NS.power, 'pointOfReceipt')),
      pointOfDelivery: text(i.one(NS.power, 'pointOfDelivery'))
    })))
    if (ti.length > 0) t.transportInterface = ti
    for (const name of eiTargets) {
      const found = s.many(NS.ei, name).map(text)
      if (found.length > 0) t[name] = found
    }
    return t
  })
}

// ---- emix:itemBase ----

const powerNsItems: readonly string[] = [...powerItemElements, ...energyItemElements, 'voltage']
const itemBaseNames: readonly string[] = [...powerNsItems, ...oadrItemElements]

/** Fixed itemDescription and allowed itemUnits of the schema's unit elements. */
const fixedUnits: Partial<Record<ItemBaseElement, [string, readonly string[]]>> = {
  voltage: ['Voltage', ['V']],
  energyApparent: ['ApparentEnergy', ['VAh']],
  energyReactive: ['ReactiveEnergy', ['VARh']],
  energyReal: ['RealEnergy', ['Wh']],
  powerApparent: ['ApparentPower', ['VA']],
  powerReactive: ['ReactivePower', ['VAR']],
  powerReal: ['RealPower', ['W', 'J/s']],
  current: ['Current', ['A']],
  frequency: ['Frequency', ['Hz']],
  Therm: ['Therm', ['thm']],
  temperature: ['temperature', ['celsius', 'fahrenheit']],
  pulseCount: ['pulse count', ['count']]
}
const currencyElements: readonly string[] = ['currency', 'currencyPerKWh', 'currencyPerKW', 'currencyPerThm']

function itemPrefix (element: ItemBaseElement): string {
  return powerNsItems.includes(element) ? 'power' : 'oadr'
}

export function encodeItemBase (item: ItemBase): string {
  const p = itemPrefix(item.element)
  let body = leaf(`${p}:itemDescription`, item.itemDescription) + leaf(`${p}:itemUnits`, item.itemUnits)
  if (item.element === 'pulseCount') body += leaf('oadr:pulseFactor', floatText(item.pulseFactor ?? 1))
  else body += leaf('scale:siScaleCode', item.siScaleCode ?? 'none')
  if ((powerItemElements as readonly string[]).includes(item.element)) {
    const a = item.powerAttributes ?? { hertz: 60, voltage: 120, ac: true }
    body += el('power:powerAttributes', leaf('power:hertz', String(a.hertz)) + leaf('power:voltage', String(a.voltage)) +
      leaf('power:ac', boolText(a.ac)))
  }
  return el(`${p}:${item.element}`, body)
}

function decimal (e: XmlElement): number {
  const v = token(e)
  if (!/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(v)) throw new SchemaViolationError(`<${e.name}>: '${v.slice(0, 40)}' is not an xs:decimal`)
  return Number(v)
}

/** Reads an optional emix:itemBase member at the cursor. */
export function optItemBase (s: Seq): ItemBase | undefined {
  const e = s.optAny(NS.power, powerNsItems) ?? s.optAny(NS.oadr, oadrItemElements)
  if (e === undefined) return undefined
  const element = e.name as ItemBaseElement
  const ns = e.ns
  return readSeq(e, i => {
    const itemDescription = token(i.one(ns, 'itemDescription'))
    const itemUnits = token(i.one(ns, 'itemUnits'))
    const fixed = fixedUnits[element]
    if (fixed !== undefined && (fixed[0] !== itemDescription || !fixed[1].includes(itemUnits))) {
      throw new SchemaViolationError(`<${element}>: expected '${fixed[0]}' in ${fixed[1].join('|')}`)
    }
    if (currencyElements.includes(element)) {
      if (!['currency', 'currencyPerKW', 'currencyPerKWh'].includes(itemDescription)) throw new SchemaViolationError(`<${element}>: bad itemDescription '${itemDescription}'`)
      if (!/^[A-Z]{3}$/.test(itemUnits)) throw new SchemaViolationError(`<${element}>: '${itemUnits}' is not an ISO 4217 code`)
    }
    const item: ItemBase = { element, itemDescription, itemUnits }
    if (element === 'pulseCount') item.pulseFactor = float(i.one(NS.oadr, 'pulseFactor'))
    else item.siScaleCode = enumeration<SiScaleCode>(i.one(NS.scale, 'siScaleCode'), siScaleCodes)
    if ((powerItemElements as readonly string[]).includes(element)) {
      item.powerAttributes = readSeq(i.one(NS.power, 'powerAttributes'), a => ({
        hertz: decimal(a.one(NS.power, 'hertz')),
        voltage: decimal(a.one(NS.power, 'voltage')),
        ac: bool(a.one(NS.power, 'ac'))
      }))
    }
    return item
  })
}

export { itemBaseNames }

// ---- xcal ----

export function decodeDtstart (e: XmlElement): number {
  return readSeq(e, s => dateTime(s.one(NS.xcal, 'date-time')))
}

/** A DurationPropType element's value in ms. */
export function decodeDurationProp (e: XmlElement): number {
  return readSeq(e, s => duration(s.one(NS.xcal, 'duration')))
}

export function encodeProperties (p: ActivePeriod): string {
  let body = dtstart(p.dtstartMs) + durationProp('xcal:duration', p.durationMs)
  if (p.startAfterMs !== undefined) {
    body += `<xcal:tolerance><xcal:tolerate><xcal:startafter>${formatDuration(p.startAfterMs)}</xcal:startafter></xcal:tolerate></xcal:tolerance>`
  }
  if (p.notificationMs !== undefined) body += durationProp('ei:x-eiNotification', p.notificationMs)
  if (p.rampUpMs !== undefined) body += durationProp('ei:x-eiRampUp', p.rampUpMs)
  if (p.recoveryMs !== undefined) body += durationProp('ei:x-eiRecovery', p.recoveryMs)
  return el('xcal:properties', body)
}

export function decodeProperties (e: XmlElement): ActivePeriod {
  return readSeq(e, s => {
    const p: ActivePeriod = { dtstartMs: decodeDtstart(s.one(NS.xcal, 'dtstart')), durationMs: decodeDurationProp(s.one(NS.xcal, 'duration')) }
    const tolerance = s.opt(NS.xcal, 'tolerance')
    if (tolerance !== undefined) {
      const startAfter = readSeq(tolerance, t => readSeq(t.one(NS.xcal, 'tolerate'), u => u.opt(NS.xcal, 'startafter')))
      if (startAfter !== undefined) p.startAfterMs = duration(startAfter)
    }
    const notification = s.opt(NS.ei, 'x-eiNotification')
    if (notification !== undefined) p.notificationMs = decodeDurationProp(notification)
    const rampUp = s.opt(NS.ei, 'x-eiRampUp')
    if (rampUp !== undefined) p.rampUpMs = decodeDurationProp(rampUp)
    const recovery = s.opt(NS.ei, 'x-eiRecovery')
    if (recovery !== undefined) p.recoveryMs = decodeDurationProp(recovery)
    return p
  })
}

// ---- strm:intervals ----

export interface IntervalHead { dtstartMs?: number, durationMs?: number, uid?: string }

export function encodeIntervalHead (i: IntervalHead): string {
  return (i.dtstartMs === undefined ? '' : dtstart(i.dtstartMs)) +
    (i.durationMs === undefined ? '' : durationProp('xcal:duration', i.durationMs)) +
    (i.uid === undefined ? '' : `<xcal:uid><xcal:text>${esc(i.uid)}</xcal:text></xcal:uid>`)
}

/** Reads ei:interval's head (dtstart, duration, uid) and hands the cursor on for the payloads. */
export function decodeIntervalHead (s: Seq): IntervalHead {
  const head: IntervalHead = {}
  const start = s.opt(NS.xcal, 'dtstart')
  if (start !== undefined) head.dtstartMs = decodeDtstart(start)
  const d = s.opt(NS.xcal, 'duration')
  if (d !== undefined) head.durationMs = decodeDurationProp(d)
  const uid = s.opt(NS.xcal, 'uid')
  if (uid !== undefined) head.uid = readSeq(uid, u => text(u.one(NS.xcal, 'text')))
  return head
}

/** ei:payloadFloat. */
export function encodePayloadFloat (value: number): string {
  return `<ei:payloadFloat><ei:value>${floatText(value)}</ei:value></ei:payloadFloat>`
}

export function decodePayloadFloat (e: XmlElement): number {
  return readSeq(e, s => float(s.one(NS.ei, 'value')))
}
