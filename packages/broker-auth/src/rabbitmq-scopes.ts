// Moved to packages/core (the exchange shapes `rabbitmq` profile tokens with it); re-exported here for broker-side users.
export { rabbitmqScopes } from '@mqtt-oidc/core'
export type { RabbitmqScopeOptions } from '@mqtt-oidc/core'
