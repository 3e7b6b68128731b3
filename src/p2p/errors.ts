/**
 * Errors of the mesh. Callers match on `name`; a protocol error means the peer answered something that
 * breaks the adrmesh protocol (it is the peer's fault, not the network's).
 */
export class MeshRequestTimeoutError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'MeshRequestTimeoutError'
  }
}

export class MeshProtocolError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'MeshProtocolError'
  }
}

export class InvalidSignedMessageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidSignedMessageError'
  }
}

export class MeshNotStartedError extends Error {
  constructor () {
    super('the mesh node is not started')
    this.name = 'MeshNotStartedError'
  }
}
