/**
 * The OpenADR 2.0b Simple HTTP endpoint layout: every service lives at
 * `{base}/OpenADR2/Simple/2.0b/{service}` (profile §9.1.2), for a VTN and for a VEN in push mode alike.
 */
import { oadrServiceNames, type OadrServiceName } from '../transport.js'

export const oadrSimplePrefix = '/OpenADR2/Simple/2.0b/'

/** The media type of every request and answer (profile §9.1.9). */
export const oadrContentType = 'application/xml'

/** Path of a service under a base path (`''` or `/vtn`, no trailing slash). */
export function oadrServicePath (basePath: string, service: OadrServiceName): string {
  return `${trimBase(basePath)}${oadrSimplePrefix}${service}`
}

/** Full URL of a service under a base URL such as `https://vtn.example:8443/prefix`. */
export function oadrServiceUrl (baseUrl: string, service: OadrServiceName): string {
  return `${trimBase(baseUrl)}${oadrSimplePrefix}${service}`
}

/** Exact path → service, so the hot path resolves a request with one map lookup. */
export function servicePathTable (basePath: string): Map<string, OadrServiceName> {
  return new Map(oadrServiceNames.map(service => [oadrServicePath(basePath, service), service]))
}

function trimBase (base: string): string {
  return base.endsWith('/') ? base.slice(0, -1) : base
}
