export * from './create-sqlite-store.js'
export * from './create-postgres-store.js'
export * from './open-store.js'
export * from './with-startup-lock.js'
