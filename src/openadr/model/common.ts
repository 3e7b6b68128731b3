/**
 * Parts shared by several 2.0b services: eiResponse, eiTarget, emix item bases (units), intervals. Field names
 * are the spec's; times are epoch ms and durations ms (see codec/time.ts for the wire forms).
 */

export interface EiResponse {
  /** Three digits; '200' is success (see errors.ts for the table). */
  responseCode: string
  responseDescription?: string
  /** Echoes the request's requestID ('' when the request had none). */
  requestID: string
}

/** ei:EiTargetType: who a signal, event or report is about. Empty arrays are left out. */
export interface EiTarget {
  aggregatedPnode?: string[]
  endDeviceAsset?: string[]
  meterAsset?: string[]
  pnode?: string[]
  serviceDeliveryPoint?: string[]
  transportInterface?: Array<{ pointOfReceipt: string, pointOfDelivery: string }>
  groupID?: string[]
  groupName?: string[]
  resourceID?: string[]
  venID?: string[]
  partyID?: string[]
}

export const siScaleCodes = ['p', 'n', 'micro', 'm', 'c', 'd', 'k', 'M', 'G', 'T', 'none'] as const
export type SiScaleCode = typeof siScaleCodes[number]

/**
 * An emix:itemBase: the unit of a signal, baseline or report value. `element` names the substitution
 * group member (`powerReal`, `energyReal`, `voltage`, `currencyPerKWh`, `customUnit`, …).
 */
export interface ItemBase {
  element: ItemBaseElement
  itemDescription: string
  itemUnits: string
  siScaleCode?: SiScaleCode
  /** power:powerAttributes, required by the power items. */
  powerAttributes?: { hertz: number, voltage: number, ac: boolean }
  /** pulseCount only. */
  pulseFactor?: number
}

export const powerItemElements = ['powerApparent', 'powerReactive', 'powerReal'] as const
export const energyItemElements = ['energyApparent', 'energyReactive', 'energyReal'] as const
export const oadrItemElements = ['customUnit', 'current', 'currency', 'currencyPerKWh', 'currencyPerKW',
  'currencyPerThm', 'frequency', 'Therm', 'temperature', 'pulseCount'] as const
export type ItemBaseElement = typeof powerItemElements[number] | typeof energyItemElements[number] | 'voltage' |
  typeof oadrItemElements[number]

/** Real power in kW at 60 Hz / 230 V AC: the unit adrmesh uses for LOAD_DISPATCH and telemetry. */
export function powerRealKw (): ItemBase {
  return {
    element: 'powerReal',
    itemDescription: 'RealPower',
    itemUnits: 'W',
    siScaleCode: 'k',
    powerAttributes: { hertz: 50, voltage: 230, ac: true }
  }
}

/** Energy in kWh. */
export function energyRealKwh (): ItemBase {
  return { element: 'energyReal', itemDescription: 'RealEnergy', itemUnits: 'Wh', siScaleCode: 'k' }
}

/** A price per kWh in `currency` (ISO 4217 code). */
export function currencyPerKWh (currency: string): ItemBase {
  return { element: 'currencyPerKWh', itemDescription: 'currencyPerKWh', itemUnits: currency, siScaleCode: 'none' }
}

/** An xcal properties block: a start, a duration, and an optional start tolerance. */
export interface ActivePeriod {
  dtstartMs: number
  durationMs: number
  /** tolerance/tolerate/startafter: how late the start may be randomised. */
  startAfterMs?: number
  notificationMs?: number
  rampUpMs?: number
  recoveryMs?: number
}
