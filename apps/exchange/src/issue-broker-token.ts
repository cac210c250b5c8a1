import { BROKER_TOKEN_TYP, createId } from '@mqtt-oidc/core'
import type { Acl, Credential } from '@mqtt-oidc/core'
import type { SigningKey } from './lib/signing-keys.js'
import type { BrokerSigner } from './lib/broker-signer.js'
import { signJwt } from '@mqtt-oidc/jose'

export interface BrokerTokenRequest {
  /** A BrokerSigner also shapes the token by the broker's profile (`aud`, `scope`, EMQX `acl`); a bare key gives the default shape. */
  readonly key: SigningKey | BrokerSigner
  /** The exchange's issuer URL (`iss`). */
  readonly issuer: string
  /** The broker id (`aud`, unless the broker's profile names another audience). */
  readonly broker: string
  /** The MQTT client id (`sub`). */
  readonly clientId: string
  readonly username?: string | undefined
  readonly acl: Acl
  /** Issue time, epoch seconds (`iat` and `nbf`). */
  readonly now: number
  /** Epoch seconds when the token becomes valid (`nbf`); default `now`. The lifetime counts from it. */
  readonly notBefore?: number | undefined
  /** Lifetime in seconds; null = no `exp` (admin expiration -1 only). */
  readonly lifetime: number | null
  readonly source: Credential['source']
  /** Who caused the issuance (admin `sub`, or the subject token's `sub`). */
  readonly issuedBy: string
}

export interface IssuedBrokerToken {
  readonly token: string
  /** What the store records (never the token itself). */
  readonly credential: Credential
}

/**
 * Signs one broker token (its claims: docs/architecture.md, "The broker
 * token"). Recording it in the store is the caller's job, so a batch can be
 * recorded atomically.
 *
 * @example
 * const { token, credential } = await issueBrokerToken({ key, issuer, broker: 'demo',
 *   clientId: 'c1', acl: ALL_TOPICS_ACL, now, lifetime: 3600, source: 'admin', issuedBy: 'ops' })
 */
export async function issueBrokerToken(req: BrokerTokenRequest): Promise<IssuedBrokerToken> {
  const jti = createId()
  const nbf = req.notBefore ?? req.now
  const expiresAt = req.lifetime === null ? null : nbf + req.lifetime
  const shape = 'shape' in req.key ? req.key.shape : undefined
  const claims: Record<string, unknown> = {
    ...(req.username ? { username: req.username } : {}),
    acl: { pub: [...req.acl.pub], sub: [...req.acl.sub] },
    ...(isAllTopics(req.acl) ? { topicAcl: '#' } : {}),
    ...shape?.claims(req.acl, { clientid: req.clientId, username: req.username }),
  }
  const token = signJwt({ typ: BROKER_TOKEN_TYP }, {
    iss: req.issuer,
    aud: shape?.audience ?? req.broker,
    sub: req.clientId,
    ...claims,
    jti,
    iat: req.now,
    nbf,
    ...(expiresAt === null ? {} : { exp: expiresAt }),
  }, req.key)
  return {
    token,
    credential: {
      jti,
      broker: req.broker,
      clientId: req.clientId,
      username: req.username ?? null,
      issuedAt: req.now,
      expiresAt,
      source: req.source,
      issuedBy: req.issuedBy,
    },
  }
}

function isAllTopics(acl: Acl): boolean {
  return acl.pub.length === 1 && acl.pub[0] === '#' && acl.sub.length === 1 && acl.sub[0] === '#'
}
