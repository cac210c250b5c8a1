import {
  parseBrokerTokenClaims,
  TokenAudienceInvalid,
  TokenClaimsInvalid,
  TokenExpired,
  TokenIssuerInvalid,
  TokenNotYetValid,
} from '@mqtt-oidc/core'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'

export interface ClaimRules {
  readonly issuer: string
  readonly audience: string
  /** Leeway for exp/nbf, in seconds. */
  readonly clockTolerance: number
}

/** exp/nbf against `now` (epoch seconds) with the leeway, as jose's JWT rules (RFC 7519 §4.1.4-5). */
export function checkTimes(payload: { exp?: unknown; nbf?: unknown }, now: number, tolerance: number): void {
  const { exp, nbf } = payload
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw new TokenClaimsInvalid('"nbf" claim must be a number')
    if (nbf > now + tolerance) throw new TokenNotYetValid('"nbf" check failed')
  }
  if (exp !== undefined) {
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new TokenClaimsInvalid('"exp" claim must be a number')
    if (exp <= now - tolerance) throw new TokenExpired('token has expired')
  }
}

/**
 * The claim rules of a broker token once its signature verified: `iss` is
 * the exchange, `aud` is this broker (a single audience; a list naming
 * others too is refused), exp/nbf with leeway, then core's claim schema
 * (sub, jti, iat, a well-formed `acl`).
 */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, now: number): BrokerTokenClaims {
  if (payload.iss !== rules.issuer) throw new TokenIssuerInvalid('"iss" check failed')
  const aud = payload.aud
  if (Array.isArray(aud)) {
    if (aud.includes(rules.audience)) throw new TokenClaimsInvalid('"aud" must name this broker only')
    throw new TokenAudienceInvalid('"aud" check failed')
  }
  if (aud !== rules.audience) throw new TokenAudienceInvalid('"aud" check failed')
  if (payload.iat !== undefined && (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat))) {
    throw new TokenClaimsInvalid('"iat" claim must be a number')
  }
  checkTimes(payload, now, rules.clockTolerance)
  return parseBrokerTokenClaims(payload)
}
