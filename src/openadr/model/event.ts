/**
 * EiEvent messages and the DR event itself: descriptor, active period, signals with intervals, baseline and
 * target. Signal names and types are the schema's enumerations (plus `x-` extensions where it allows them).
 */
import type { ActivePeriod, EiResponse, EiTarget, ItemBase } from './common.js'

export const eventStatuses = ['none', 'far', 'near', 'active', 'completed', 'cancelled'] as const
export type EventStatus = typeof eventStatuses[number]

export const signalNames = ['SIMPLE', 'simple', 'ELECTRICITY_PRICE', 'ENERGY_PRICE', 'DEMAND_CHARGE', 'BID_PRICE',
  'BID_LOAD', 'BID_ENERGY', 'CHARGE_STATE', 'LOAD_DISPATCH', 'LOAD_CONTROL'] as const
/** An enumerated signal name or an `x-` extension. */
export type SignalName = typeof signalNames[number] | `x-${string}`

export const signalTypes = ['delta', 'level', 'multiplier', 'price', 'priceMultiplier', 'priceRelative', 'setpoint',
  'x-loadControlCapacity', 'x-loadControlLevelOffset', 'x-loadControlPercentOffset', 'x-loadControlSetpoint'] as const
export type SignalType = typeof signalTypes[number]

export const optTypes = ['optIn', 'optOut'] as const
export type OptType = typeof optTypes[number]

export type ResponseRequired = 'always' | 'never'

export interface EventDescriptor {
  eventID: string
  modificationNumber: number
  modificationDateTimeMs?: number
  modificationReason?: string
  priority?: number
  marketContext: string
  createdDateTimeMs: number
  eventStatus: EventStatus
  testEvent?: string
  vtnComment?: string
}

/** One interval of a signal or baseline: its own start/duration when given, and its values in order. */
export interface SignalInterval {
  dtstartMs?: number
  durationMs?: number
  /** xcal:uid text: the interval's index in the spec's examples. */
  uid?: string
  values: number[]
}

export interface EventSignal {
  intervals: SignalInterval[]
  eiTarget?: EiTarget
  signalName: SignalName
  signalType: SignalType
  signalID: string
  itemBase?: ItemBase
  currentValue?: number
}

export interface EventBaseline {
  dtstartMs: number
  durationMs: number
  intervals: SignalInterval[]
  baselineID: string
  resourceID?: string[]
  baselineName: string
  itemBase?: ItemBase
}

export interface EiEvent {
  eventDescriptor: EventDescriptor
  eiActivePeriod: ActivePeriod
  eiEventSignals: EventSignal[]
  eiEventBaseline?: EventBaseline
  eiTarget: EiTarget
}

export interface OadrEvent {
  eiEvent: EiEvent
  oadrResponseRequired: ResponseRequired
}

export interface OadrDistributeEvent {
  type: 'oadrDistributeEvent'
  eiResponse?: EiResponse
  requestID: string
  vtnID: string
  oadrEvents: OadrEvent[]
}

export interface OadrRequestEvent {
  type: 'oadrRequestEvent'
  requestID: string
  venID: string
  replyLimit?: number
}

export interface EventResponse {
  responseCode: string
  responseDescription?: string
  requestID: string
  qualifiedEventID: { eventID: string, modificationNumber: number }
  optType: OptType
}

export interface OadrCreatedEvent {
  type: 'oadrCreatedEvent'
  eiResponse: EiResponse
  eventResponses?: EventResponse[]
  venID: string
}

export interface OadrResponse {
  type: 'oadrResponse'
  eiResponse: EiResponse
  venID?: string
}
