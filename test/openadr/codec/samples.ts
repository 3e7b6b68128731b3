/**
 * One full sample of every 2.0b message (optional parts filled in), for round-trip and schema tests, and a
 * minimal variant of each where the schema allows leaving things out.
 */
import type { OadrMessage } from '../../../src/openadr/model/index.js'
import { currencyPerKWh, energyRealKwh, powerRealKw } from '../../../src/openadr/model/index.js'
import type { EiEvent, OadrReport } from '../../../src/openadr/model/index.js'

const t0 = Date.UTC(2026, 0, 15, 12, 0, 0)
const minute = 60_000

export const loadDispatchEvent: EiEvent = {
  eventDescriptor: {
    eventID: 'evt-1', modificationNumber: 2, modificationDateTimeMs: t0 - 30 * minute, modificationReason: 'setpoint update',
    priority: 1, marketContext: 'http://utility.example/markets/dr', createdDateTimeMs: t0 - 60 * minute, eventStatus: 'far',
    testEvent: 'false', vtnComment: 'a <comment> & "quotes"'
  },
  eiActivePeriod: { dtstartMs: t0, durationMs: 60 * minute, startAfterMs: 5 * minute, notificationMs: 60 * minute, rampUpMs: 15 * minute, recoveryMs: 10 * minute },
  eiEventSignals: [
    {
      intervals: [
        { durationMs: 15 * minute, uid: '0', values: [120.5] },
        { durationMs: 15 * minute, uid: '1', values: [110] },
        { durationMs: 15 * minute, uid: '2', values: [-5.25] },
        { durationMs: 15 * minute, uid: '3', values: [100] }
      ],
      eiTarget: { resourceID: ['battery-1'] },
      signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'sig-setpoint', itemBase: powerRealKw(), currentValue: 0
    },
    {
      intervals: [{ dtstartMs: t0, durationMs: 60 * minute, uid: '0', values: [-20] }],
      signalName: 'LOAD_DISPATCH', signalType: 'delta', signalID: 'sig-delta', itemBase: powerRealKw()
    },
    { intervals: [{ durationMs: 60 * minute, values: [1] }], signalName: 'SIMPLE', signalType: 'level', signalID: 'sig-simple' },
    { intervals: [{ durationMs: 60 * minute, values: [0.31] }], signalName: 'ELECTRICITY_PRICE', signalType: 'price', signalID: 'sig-price', itemBase: currencyPerKWh('EUR') },
    { intervals: [{ durationMs: 60 * minute, values: [3] }], signalName: 'x-customSignal', signalType: 'x-loadControlLevelOffset', signalID: 'sig-x' }
  ],
  eiEventBaseline: {
    dtstartMs: t0, durationMs: 60 * minute, intervals: [{ durationMs: 60 * minute, uid: '0', values: [130] }],
    baselineID: 'bl-1', resourceID: ['battery-1', 'pv-2'], baselineName: 'forecast', itemBase: powerRealKw()
  },
  eiTarget: {
    aggregatedPnode: ['apn'], endDeviceAsset: ['eda'], meterAsset: ['meter-1'], pnode: ['pn'], serviceDeliveryPoint: ['sdp'],
    transportInterface: [{ pointOfReceipt: 'por', pointOfDelivery: 'pod' }], groupID: ['g1'], groupName: ['group one'],
    resourceID: ['r1'], venID: ['ven-1', 'ven-2'], partyID: ['p1']
  }
}

const minimalEvent: EiEvent = {
  eventDescriptor: { eventID: 'evt-2', modificationNumber: 0, marketContext: 'http://m', createdDateTimeMs: t0, eventStatus: 'none' },
  eiActivePeriod: { dtstartMs: t0, durationMs: 0 },
  eiEventSignals: [{ intervals: [{ values: [1] }], signalName: 'simple', signalType: 'level', signalID: 's' }],
  eiTarget: {}
}

export const telemetryMetadata: OadrReport = {
  durationMs: 120 * minute,
  eiReportID: 'rep-meta',
  oadrReportDescriptions: [
    {
      rID: 'power', reportSubject: { resourceID: ['battery-1'] }, reportDataSource: { resourceID: ['meter-1'] }, reportType: 'usage',
      itemBase: powerRealKw(), readingType: 'Direct Read', marketContext: 'http://utility.example/markets/dr',
      samplingRate: { minPeriodMs: minute, maxPeriodMs: 60 * minute, onChange: false }
    },
    { rID: 'energy', reportType: 'usage', itemBase: energyRealKwh(), readingType: 'Net' },
    { rID: 'status', reportType: 'x-resourceStatus', readingType: 'x-notApplicable', samplingRate: { minPeriodMs: minute, maxPeriodMs: minute, onChange: true } },
    { rID: 'forecast', reportType: 'x-forecastUsage', itemBase: powerRealKw(), readingType: 'Projected' }
  ],
  reportRequestID: '0',
  reportSpecifierID: 'telemetry',
  reportName: 'METADATA_TELEMETRY_USAGE',
  createdDateTimeMs: t0
}

export const telemetryData: OadrReport = {
  dtstartMs: t0,
  durationMs: 2 * minute,
  intervals: [
    { dtstartMs: t0, durationMs: minute, uid: '0', payloads: [{ rID: 'power', confidence: 90, accuracy: 0.5, value: 101.25, dataQuality: 'Quality Good - Non Specific' }] },
    {
      dtstartMs: t0 + minute,
      durationMs: minute,
      payloads: [
        { rID: 'power', value: 99 },
        { rID: 'status', value: { online: true, manualOverride: false, loadControlState: { setPoint: { min: 0, max: 200, current: 120, normal: 150 }, capacity: { current: 80 } } } }
      ]
    }
  ],
  eiReportID: 'rep-1',
  reportRequestID: 'req-1',
  reportSpecifierID: 'telemetry',
  reportName: 'TELEMETRY_USAGE',
  createdDateTimeMs: t0 + 2 * minute
}

const ok = (requestID: string): { responseCode: string, responseDescription: string, requestID: string } => ({ responseCode: '200', responseDescription: 'OK', requestID })

/** A full sample of every message type. */
export const fullSamples: OadrMessage[] = [
  { type: 'oadrQueryRegistration', requestID: 'q-1' },
  {
    type: 'oadrCreatePartyRegistration', requestID: 'r-1', registrationID: 'reg-1', venID: 'ven-1', oadrProfileName: '2.0b',
    oadrTransportName: 'simpleHttp', oadrTransportAddress: 'http://127.0.0.1:8081/', oadrReportOnly: false, oadrXmlSignature: true,
    oadrVenName: 'customer one', oadrHttpPullModel: false
  },
  {
    type: 'oadrCreatedPartyRegistration', eiResponse: ok('r-1'), registrationID: 'reg-1', venID: 'ven-1', vtnID: 'vtn-1',
    oadrProfiles: [{ oadrProfileName: '2.0a', oadrTransports: ['simpleHttp'] }, { oadrProfileName: '2.0b', oadrTransports: ['simpleHttp', 'xmpp'] }],
    oadrRequestedOadrPollFreqMs: 10_000,
    oadrServiceSpecificInfo: [{ oadrServiceName: 'EiEvent', oadrInfo: [{ oadrKey: 'k', oadrValue: 'v' }] }]
  },
  { type: 'oadrCancelPartyRegistration', requestID: 'c-1', registrationID: 'reg-1', venID: 'ven-1' },
  { type: 'oadrCanceledPartyRegistration', eiResponse: ok('c-1'), registrationID: 'reg-1', venID: 'ven-1' },
  { type: 'oadrRequestReregistration', venID: 'ven-1' },
  { type: 'oadrRequestEvent', requestID: 'e-1', venID: 'ven-1', replyLimit: 5 },
  {
    type: 'oadrDistributeEvent', eiResponse: ok('e-1'), requestID: 'd-1', vtnID: 'vtn-1',
    oadrEvents: [{ eiEvent: loadDispatchEvent, oadrResponseRequired: 'always' }, { eiEvent: minimalEvent, oadrResponseRequired: 'never' }]
  },
  {
    type: 'oadrCreatedEvent', eiResponse: ok('d-1'), venID: 'ven-1',
    eventResponses: [
      { responseCode: '200', responseDescription: 'OK', requestID: 'd-1', qualifiedEventID: { eventID: 'evt-1', modificationNumber: 2 }, optType: 'optIn' },
      { responseCode: '200', requestID: 'd-1', qualifiedEventID: { eventID: 'evt-2', modificationNumber: 0 }, optType: 'optOut' }
    ]
  },
  { type: 'oadrResponse', eiResponse: ok('x-1'), venID: 'ven-1' },
  { type: 'oadrRegisterReport', requestID: 'rr-1', oadrReports: [telemetryMetadata], venID: 'ven-1', reportRequestID: '0' },
  {
    type: 'oadrRegisteredReport', eiResponse: ok('rr-1'), venID: 'ven-1',
    oadrReportRequests: [{
      reportRequestID: 'req-1',
      reportSpecifier: {
        reportSpecifierID: 'telemetry', granularityMs: minute, reportBackDurationMs: 2 * minute,
        reportInterval: { dtstartMs: t0, durationMs: 60 * minute },
        specifierPayloads: [{ rID: 'power', itemBase: powerRealKw(), readingType: 'Direct Read' }, { rID: 'status', readingType: 'x-notApplicable' }]
      }
    }]
  },
  {
    type: 'oadrCreateReport', requestID: 'cr-1', venID: 'ven-1',
    oadrReportRequests: [{ reportRequestID: 'req-2', reportSpecifier: { reportSpecifierID: 'telemetry', granularityMs: minute, reportBackDurationMs: minute, specifierPayloads: [{ rID: 'energy', readingType: 'Net' }] } }]
  },
  { type: 'oadrCreatedReport', eiResponse: ok('cr-1'), oadrPendingReports: ['req-1', 'req-2'], venID: 'ven-1' },
  { type: 'oadrUpdateReport', requestID: 'ur-1', oadrReports: [telemetryData], venID: 'ven-1' },
  { type: 'oadrUpdatedReport', eiResponse: ok('ur-1'), oadrCancelReport: { requestID: 'can-1', reportRequestIDs: ['req-1'], reportToFollow: false, venID: 'ven-1' }, venID: 'ven-1' },
  { type: 'oadrCancelReport', requestID: 'can-2', reportRequestIDs: ['req-1', 'req-2'], reportToFollow: true, venID: 'ven-1' },
  { type: 'oadrCanceledReport', eiResponse: ok('can-2'), oadrPendingReports: ['req-2'], venID: 'ven-1' },
  {
    type: 'oadrCreateOpt', optID: 'opt-1', optType: 'optOut', optReason: 'mustRun', marketContext: 'http://utility.example/markets/dr',
    venID: 'ven-1', availability: [{ dtstartMs: t0, durationMs: 120 * minute }, { dtstartMs: t0 + 240 * minute, durationMs: 60 * minute }],
    createdDateTimeMs: t0, requestID: 'o-1', qualifiedEventID: { eventID: 'evt-1', modificationNumber: 2 },
    eiTarget: { resourceID: ['battery-1'] }, oadrDeviceClass: { endDeviceAsset: ['Energy_Management_System'] }
  },
  { type: 'oadrCreatedOpt', eiResponse: ok('o-1'), optID: 'opt-1' },
  { type: 'oadrCancelOpt', requestID: 'o-2', optID: 'opt-1', venID: 'ven-1' },
  { type: 'oadrCanceledOpt', eiResponse: ok('o-2'), optID: 'opt-1' },
  { type: 'oadrPoll', venID: 'ven-1' }
]

/** The smallest schema-valid form of the messages that have optional parts. */
export const minimalSamples: OadrMessage[] = [
  { type: 'oadrCreatePartyRegistration', requestID: '', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: true, oadrXmlSignature: false },
  { type: 'oadrCreatedPartyRegistration', eiResponse: { responseCode: '200', requestID: '' }, vtnID: 'v', oadrProfiles: [{ oadrProfileName: '2.0b', oadrTransports: ['simpleHttp'] }] },
  { type: 'oadrCanceledPartyRegistration', eiResponse: { responseCode: '452', requestID: 'c' } },
  { type: 'oadrRequestEvent', requestID: 'e', venID: 'v' },
  { type: 'oadrDistributeEvent', requestID: 'd', vtnID: 'v', oadrEvents: [] },
  { type: 'oadrCreatedEvent', eiResponse: { responseCode: '200', requestID: 'd' }, venID: 'v' },
  { type: 'oadrResponse', eiResponse: { responseCode: '463', responseDescription: 'not registered', requestID: '' } },
  { type: 'oadrRegisterReport', requestID: 'r', oadrReports: [] },
  { type: 'oadrRegisteredReport', eiResponse: { responseCode: '200', requestID: 'r' }, oadrReportRequests: [] },
  { type: 'oadrCreatedReport', eiResponse: { responseCode: '200', requestID: 'r' }, oadrPendingReports: [] },
  { type: 'oadrUpdateReport', requestID: 'u', oadrReports: [{ reportRequestID: 'q', reportSpecifierID: 's', createdDateTimeMs: t0 }] },
  { type: 'oadrUpdatedReport', eiResponse: { responseCode: '200', requestID: 'u' } },
  { type: 'oadrCanceledReport', eiResponse: { responseCode: '200', requestID: 'u' }, oadrPendingReports: [] },
  { type: 'oadrCreateOpt', optID: 'o', optType: 'optIn', optReason: 'x-custom', venID: 'v', createdDateTimeMs: t0, requestID: 'r', eiTarget: {} },
  { type: 'oadrCanceledOpt', eiResponse: { responseCode: '200', requestID: 'r' } }
]
