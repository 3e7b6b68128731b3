/**
 * OpenADR 2.0b response codes and the named errors that carry them. The service edge turns any of these into
 * an `oadrResponse` with the error's `responseCode`, so a handler only has to throw the right class.
 */

/** The 2.0b response-code table (eiResponse/responseCode), with the spec's meanings. */
export const ResponseCode = {
  OK: '200',
  /** Not XML, refused constructs (DOCTYPE), or a request no service understands. */
  BAD_REQUEST: '400',
  OUT_OF_SEQUENCE: '450',
  NOT_ALLOWED: '451',
  INVALID_ID: '452',
  NOT_RECOGNIZED: '453',
  INVALID_DATA: '454',
  /** The payload breaks the schema (wrong root, missing or unexpected element, wrong type or enumeration). */
  COMPLIANCE_ERROR: '459',
  SIGNAL_NOT_SUPPORTED: '460',
  REPORT_NOT_SUPPORTED: '461',
  TARGET_MISMATCH: '462',
  NOT_REGISTERED_OR_AUTHORIZED: '463',
  DEPLOYMENT_ERROR_OR_OTHER_ERROR: '469',
  INTERNAL_ERROR: '500'
} as const

export type ResponseCodeValue = typeof ResponseCode[keyof typeof ResponseCode]

/** Base of every OpenADR protocol error: carries the response code to answer with. */
export class OadrError extends Error {
  readonly responseCode: string
  constructor (message: string, responseCode: string) {
    super(message)
    this.name = 'OadrError'
    this.responseCode = responseCode
  }
}

/** The text is not well-formed XML. */
export class XmlSyntaxError extends OadrError {
  constructor (message: string, readonly position?: number) {
    super(position === undefined ? message : `${message} at offset ${position}`, ResponseCode.BAD_REQUEST)
    this.name = 'XmlSyntaxError'
  }
}

/** DOCTYPE or entity declarations: refused outright (XXE, billion laughs). */
export class XmlDoctypeError extends OadrError {
  constructor () {
    super('DOCTYPE and entity declarations are not allowed', ResponseCode.BAD_REQUEST)
    this.name = 'XmlDoctypeError'
  }
}

/** Well-formed XML that the 2.0b schema rejects. */
export class SchemaViolationError extends OadrError {
  constructor (message: string) {
    super(message, ResponseCode.COMPLIANCE_ERROR)
    this.name = 'SchemaViolationError'
  }
}

/** A message sent to a service that does not handle it (e.g. oadrPoll to EiEvent). */
export class WrongServiceError extends OadrError {
  constructor (message: string) {
    super(message, ResponseCode.NOT_RECOGNIZED)
    this.name = 'WrongServiceError'
  }
}

/** An ID that does not match what the receiver knows (registrationID, eventID, reportRequestID, optID). */
export class InvalidIdError extends OadrError {
  constructor (message: string) {
    super(message, ResponseCode.INVALID_ID)
    this.name = 'InvalidIdError'
  }
}

/** Valid against the schema but semantically wrong. */
export class InvalidDataError extends OadrError {
  constructor (message: string) {
    super(message, ResponseCode.INVALID_DATA)
    this.name = 'InvalidDataError'
  }
}

/** The venID is not registered, or does not belong to the sender's certificate. */
export class NotRegisteredError extends OadrError {
  constructor (message: string) {
    super(message, ResponseCode.NOT_REGISTERED_OR_AUTHORIZED)
    this.name = 'NotRegisteredError'
  }
}

/** A request that is understood but not allowed now (e.g. out of the registration sequence). */
export class NotAllowedError extends OadrError {
  constructor (message: string) {
    super(message, ResponseCode.NOT_ALLOWED)
    this.name = 'NotAllowedError'
  }
}

/** A report the VEN did not offer, or a report name the receiver does not handle. */
export class ReportNotSupportedError extends OadrError {
  constructor (message: string) {
    super(message, ResponseCode.REPORT_NOT_SUPPORTED)
    this.name = 'ReportNotSupportedError'
  }
}

/** The other end answered with an error response code. */
export class OadrResponseError extends OadrError {
  constructor (message: string, responseCode: string) {
    super(message, responseCode)
    this.name = 'OadrResponseError'
  }
}
