/**
 * The namespaces of the OpenADR 2.0b schema, and the prefixes this codec writes them with (the ones the
 * specification's examples use, so a human reading a payload sees familiar names).
 */
export const NS = {
  oadr: 'http://openadr.org/oadr-2.0b/2012/07',
  ei: 'http://docs.oasis-open.org/ns/energyinterop/201110',
  pyld: 'http://docs.oasis-open.org/ns/energyinterop/201110/payloads',
  emix: 'http://docs.oasis-open.org/ns/emix/2011/06',
  xcal: 'urn:ietf:params:xml:ns:icalendar-2.0',
  strm: 'urn:ietf:params:xml:ns:icalendar-2.0:stream',
  power: 'http://docs.oasis-open.org/ns/emix/2011/06/power',
  scale: 'http://docs.oasis-open.org/ns/emix/2011/06/siscale',
  ds: 'http://www.w3.org/2000/09/xmldsig#'
} as const

/** Namespace declarations written once on the oadrPayload root. */
export const rootNamespaceDeclarations = (Object.keys(NS) as Array<keyof typeof NS>)
  .filter(p => p !== 'ds')
  .map(p => ` xmlns:${p}="${NS[p]}"`)
  .join('')
