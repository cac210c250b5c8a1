import { InvalidRequest, InvalidTarget, mqttIdentifierProblem, createId } from '@mqtt-oidc/core'
import type { Acl, Broker } from '@mqtt-oidc/core'
import type { SubjectIdentity } from '../verify-subject-token.js'
import type { BrokerPolicy } from './broker-policy.js'
import { selectAcl } from './broker-policy.js'
import { exchangeLifetime } from './expiration.js'
import { narrowAcl } from './narrow-acl.js'

export interface ExchangeDecision {
  readonly clientId: string
  /** True when the client id was generated here (it goes back in the response). */
  readonly generated: boolean
  readonly username: string | undefined
  readonly acl: Acl
  /** The granted scope when the request narrowed the ACL. */
  readonly scope: string | undefined
  /** Seconds; never unlimited. */
  readonly lifetime: number
}

/**
 * What the broker's policy makes of a verified subject: which issuers it
 * accepts, the client id (from the claim or a generated ULID) and username
 * (both must pass core's mqttIdentifierProblem), the ACL (a
 * template chosen by groups/claims, narrowed by `scope`) and the lifetime
 * (the shortest of the broker's expiration, the policy's and the exchange's
 * maximum).
 */
export function decideExchange(
  identity: SubjectIdentity,
  broker: Broker,
  policy: BrokerPolicy,
  scope: string | undefined,
  maxLifetime: number,
): ExchangeDecision {
  if (policy.allowedIssuers.length > 0 && !policy.allowedIssuers.includes(identity.issuer.issuer)) {
    throw new InvalidTarget(`broker "${broker.id}" does not accept tokens from this issuer`)
  }
  const generated = policy.clientIdMode === 'generated'
  const clientId = generated ? createId() : identity.clientId
  if (clientId === undefined) {
    throw new InvalidRequest(`subject_token has no usable ${identity.issuer.clientIdClaim} claim (ask for scope mqtt)`)
  }
  // Both become topic levels in ACL filters: core's one rule for identifiers, whatever the issuer.
  const clientIdProblem = mqttIdentifierProblem('client id', clientId)
  if (clientIdProblem) throw new InvalidRequest(generated ? clientIdProblem : `subject_token's ${identity.issuer.clientIdClaim} claim: ${clientIdProblem}`)
  const usernameProblem = identity.username === undefined ? undefined : mqttIdentifierProblem('username', identity.username)
  if (usernameProblem) throw new InvalidRequest(`subject_token's ${identity.issuer.usernameClaim} claim: ${usernameProblem}`)
  const template = selectAcl(policy, broker.acl, identity)
  const narrowed = scope === undefined ? undefined : narrowAcl(template, scope, { clientid: clientId, username: identity.username })
  const cap = policy.maxLifetime === null ? maxLifetime : Math.min(policy.maxLifetime, maxLifetime)
  return {
    clientId,
    generated,
    username: identity.username,
    acl: narrowed?.acl ?? template,
    scope: narrowed?.scope,
    lifetime: exchangeLifetime(broker.expiration, cap),
  }
}
