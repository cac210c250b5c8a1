export * from './create-broker.js'
export * from './config.js'
export * from './create-emqx-hook-server.js'
