// The `@mqtt-oidc/idp/admin` entry: what the `mqtt-oidc users` and
// `mqtt-oidc idp keys` commands need, without loading oidc-provider or express.
export * from './create-account.js'
export * from './set-account-password.js'
export * from './set-account-disabled.js'
export * from './set-account-client-id-mode.js'
export * from './set-account-client-ids.js'
export * from './list-client-id-conflicts.js'
export * from './rotate-signing-keys.js'
