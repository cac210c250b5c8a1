export * from './create-broker.js'
export * from './config.js'
