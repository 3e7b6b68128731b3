/**
 * OpenAPI 3.1 description of the node's HTTP JSON API: the agent's API (src/node/api.ts: status, events,
 * customers, and the writes guarded by the admin token) and the dashboard's read-only exports and streams.
 */

const json = (schema: unknown): Record<string, unknown> => ({ 'application/json': { schema } })
const ok = (description: string, content?: unknown): Record<string, unknown> => ({ 200: { description, ...(content !== undefined ? { content } : {}) } })
const error = { $ref: '#/components/schemas/Error' }
const eventId = { name: 'eventId', in: 'path', required: true, schema: { type: 'string' } }
const venId = { name: 'venId', in: 'path', required: true, schema: { type: 'string' } }
const errors = { 400: { description: 'invalid input; nothing changed', content: json(error) }, 401: { description: 'token missing or wrong', content: json(error) }, 404: { description: 'unknown resource', content: json(error) } }
const write = { security: [{ adminToken: [] }] }
const kwArray = { type: 'array', items: { type: 'number' }, minItems: 1 }

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'adrmesh node API', version: '0.1.0', description: 'JSON API of an adrmesh virtual node. Power in kW (positive: drawn from the grid), time in epoch milliseconds.' },
  components: {
    securitySchemes: {
      adminToken: { type: 'http', scheme: 'bearer', description: 'The node\'s adminToken: required for every POST.' },
      dashboardToken: { type: 'http', scheme: 'bearer', description: 'When the node sets a dashboard token, every GET except /metrics needs it (header, `adrmesh_dashboard` cookie, or `?token=` once on a page).' }
    },
    schemas: {
      Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } },
      DrRequest: {
        type: 'object',
        required: ['eventId', 'marketContext', 'startMs', 'intervalMs', 'amountsKw'],
        properties: {
          eventId: { type: 'string' }, modificationNumber: { type: 'integer', default: 0 }, marketContext: { type: 'string' },
          startMs: { type: 'number' }, intervalMs: { type: 'number', exclusiveMinimum: 0 }, amountsKw: kwArray,
          signalType: { enum: ['delta', 'setpoint'], default: 'delta' }
        }
      },
      Interval: {
        type: 'object',
        properties: {
          index: { type: 'integer' }, requestedKw: { type: 'number' }, deliveredKw: { type: ['number', 'null'] }, deviationKw: { type: ['number', 'null'] },
          intraCoveredKw: { type: 'number' }, interCoveredKw: { type: 'number' }, shortfallKw: { type: 'number' }
        }
      },
      AuditEntry: {
        type: 'object',
        properties: {
          eventId: { type: 'string' }, seq: { type: 'integer' }, timeMs: { type: 'number' }, event: { type: 'string' }, stateBefore: { type: 'string' },
          stateAfter: { type: 'string' }, decision: {}, prevHash: { type: 'string' }, hash: { type: 'string' }
        }
      },
      Capabilities: {
        type: 'object',
        required: ['baselineKw', 'flexUpKw', 'flexDownKw'],
        properties: {
          baselineKw: kwArray, flexUpKw: kwArray, flexDownKw: kwArray, forecastStartMs: { type: 'number' }, forecastIntervalMs: { type: 'number' },
          costUpPerKwh: { type: 'number' }, costDownPerKwh: { type: 'number' }, minActivationKw: { type: 'number' }, pvKw: { type: 'number' }, batteryKwh: { type: 'number' }
        }
      }
    }
  },
  paths: {
    '/api/status': { get: { summary: 'Node id, lifecycle state, live events, counts', responses: ok('status', json({ type: 'object' })) } },
    '/api/events': {
      get: { summary: 'Every DR event with its state', responses: ok('events', json({ type: 'array', items: { type: 'object' } })) },
      post: { ...write, summary: 'Inject a DR request, or modify a live one (higher modificationNumber)', requestBody: { required: true, content: json({ $ref: '#/components/schemas/DrRequest' }) }, responses: { ...ok('the event summary', json({ type: 'object' })), ...errors, 409: { description: 'duplicate or stale', content: json(error) } } }
    },
    '/api/events/{eventId}': { get: { parameters: [eventId], summary: 'One event: state, intervals (requested vs delivered), audit trail', responses: { ...ok('event', json({ type: 'object', properties: { intervals: { type: 'array', items: { $ref: '#/components/schemas/Interval' } }, audit: { type: 'array', items: { $ref: '#/components/schemas/AuditEntry' } } } })), 404: errors[404] } } },
    '/api/events/{eventId}/cancel': { post: { ...write, parameters: [eventId], summary: 'Cancel a live event', responses: { ...ok('the event summary', json({ type: 'object' })), ...errors } } },
    '/api/events/{eventId}/audit': { get: { parameters: [eventId], summary: 'The audit trail as JSON lines in a JSON object', responses: { ...ok('lines', json({ type: 'object', properties: { lines: { type: 'array', items: { type: 'string' } } } })), 404: errors[404] } } },
    '/api/events/{eventId}/audit.jsonl': { get: { parameters: [eventId], summary: 'The audit trail as JSON lines closed by the signed head (input of `adrmesh audit verify`)', responses: { ...ok('JSON lines', { 'application/x-ndjson': { schema: { type: 'string' } } }), 404: errors[404] } } },
    '/api/events/{eventId}/stream': { get: { parameters: [eventId], summary: 'Server-sent events: a fresh rendering of the event page after every change', responses: { ...ok('event stream', { 'text/event-stream': { schema: { type: 'string' } } }), 404: errors[404] } } },
    '/api/customers': {
      get: { summary: 'Enrolled customers', responses: ok('customers', json({ type: 'array', items: { type: 'object' } })) },
      post: { ...write, summary: 'Enrol a customer (optionally with capabilities)', requestBody: { required: true, content: json({ type: 'object', required: ['venId', 'marketContexts'], properties: { venId: { type: 'string' }, venName: { type: 'string' }, marketContexts: { type: 'array', items: { type: 'string' } }, capabilities: { $ref: '#/components/schemas/Capabilities' } } }) }, responses: { ...ok('the customer', json({ type: 'object' })), ...errors } }
    },
    '/api/customers/{venId}/capabilities': { post: { ...write, parameters: [venId], summary: 'Set a customer\'s capabilities', requestBody: { required: true, content: json({ $ref: '#/components/schemas/Capabilities' }) }, responses: { ...ok('the customer', json({ type: 'object' })), ...errors } } },
    '/api/customers/{venId}/reports': { post: { ...write, parameters: [venId], summary: 'Post telemetry readings', requestBody: { required: true, content: json({ type: 'object', required: ['readings'], properties: { readings: { type: 'array', items: { type: 'object', required: ['atMs', 'kw'], properties: { atMs: { type: 'number' }, kw: { type: 'number' } } } } } }) }, responses: { ...ok('count stored', json({ type: 'object', properties: { stored: { type: 'integer' } } })), ...errors } } },
    '/api/customers/{venId}/dispatch': { get: { parameters: [venId], summary: 'Setpoints for a customer that pulls them over the API', responses: { ...ok('dispatches', json({ type: 'array', items: { type: 'object' } })), 404: errors[404] } } },
    '/api/machines/dr-event.json': { get: { summary: 'The DR-event statechart: every state with its kind, every transition (eventless ones included)', responses: ok('machine graph', json({ type: 'object' })) } },
    '/api/machines/dr-event.scxml': { get: { summary: 'The DR-event statechart as SCXML', responses: ok('SCXML', { 'application/scxml+xml': { schema: { type: 'string' } } }) } },
    '/api/openapi.json': { get: { summary: 'This document', responses: ok('OpenAPI', json({ type: 'object' })) } },
    '/metrics': { get: { summary: 'Prometheus metrics (text exposition format); may be restricted to loopback clients', security: [], responses: { ...ok('metrics', { 'text/plain': { schema: { type: 'string' } } }), 403: { description: 'not a loopback client' } } } }
  },
  security: [{}, { dashboardToken: [] }]
}
