export * from './paths.js'
export * from './errors.js'
export * from './server.js'
export * from './sender.js'
