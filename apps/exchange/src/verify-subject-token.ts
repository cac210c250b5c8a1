import { decodeProtectedHeader } from 'jose'
import type { JWTVerifyGetKey } from 'jose'
import { BROKER_TOKEN_TYP, InvalidRequest, TokenMalformed, TokenTypeInvalid, TokenAudienceInvalid } from '@mqtt-oidc/core'
import { IDP_TOKEN_ALGS, verifyJwt } from './lib/verify-jwt.js'

export interface SubjectTokenPolicy {
  /** The trusted IdP's issuer (`iss`). */
  readonly issuer: string
  /** Client ids whose ID tokens may be exchanged (`aud`, and `azp` when present). */
  readonly clientIds: readonly string[]
  /** Resolves the IdP's verification keys. */
  readonly keys: JWTVerifyGetKey
}

export interface SubjectIdentity {
  /** The IdP account (`sub`). */
  readonly sub: string
  /** The MQTT client id (`clientid` claim). */
  readonly clientId: string
  readonly username?: string | undefined
}

const WHAT = 'subject_token'
const MAX_CLAIM_LENGTH = 256

/**
 * Verifies an ID token presented as an RFC 8693 subject token and returns
 * the identity it carries. Throws core token errors (all map to
 * `invalid_request`) naming the reason; the token is never echoed.
 */
export async function verifySubjectToken(token: string, policy: SubjectTokenPolicy): Promise<SubjectIdentity> {
  refuseBrokerToken(token)
  const { payload } = await verifyJwt(token, policy.keys, {
    algorithms: [...IDP_TOKEN_ALGS],
    issuer: policy.issuer,
    audience: [...policy.clientIds],
    requiredClaims: ['exp', 'sub'],
  }, WHAT)
  if (payload.azp !== undefined && !policy.clientIds.includes(String(payload.azp))) {
    throw new TokenAudienceInvalid(`${WHAT} audience is not accepted here`)
  }
  const clientId = payload.clientid
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_CLAIM_LENGTH) {
    throw new InvalidRequest(`${WHAT} has no usable clientid claim (ask for scope mqtt)`)
  }
  const username = payload.username
  if (username !== undefined && (typeof username !== 'string' || username.length === 0 || username.length > MAX_CLAIM_LENGTH)) {
    throw new InvalidRequest(`${WHAT} has an invalid username claim`)
  }
  return { sub: String(payload.sub), clientId, username }
}

/** A broker token is never a subject token: no privilege chaining (RFC 8725 §3.11). */
function refuseBrokerToken(token: string): void {
  let typ: unknown
  try {
    typ = decodeProtectedHeader(token).typ
  } catch {
    throw new TokenMalformed(`${WHAT} is not a well-formed signed JWT`)
  }
  if (typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === BROKER_TOKEN_TYP) {
    throw new TokenTypeInvalid(`${WHAT} is a broker token; broker tokens cannot be exchanged`)
  }
}
