import { BROKER_TOKEN_TYP, TOKEN_TYPE, TokenAudienceInvalid, TokenIssuerInvalid, TokenTypeInvalid } from '@mqtt-oidc/core'
import { decodeJws } from './lib/decode-jws.js'
import type { JwtPayload } from './lib/decode-jws.js'
import type { TrustedIssuer } from './lib/trusted-issuers.js'
import { IDP_TOKEN_ALGS, verifyJwt } from './lib/verify-jwt.js'

export interface SubjectTokenPolicy {
  /** Issuers whose tokens may be exchanged. */
  readonly issuers: readonly TrustedIssuer[]
  /** Audiences an access token must name (this exchange's URL, ...). */
  readonly audiences: readonly string[]
  /** A token whose `iat` is older than this many seconds is refused. */
  readonly maxAge: number
  /** Current time, epoch seconds. */
  readonly now: number
}

export interface SubjectIdentity {
  /** The issuer that vouched for the subject. */
  readonly issuer: TrustedIssuer
  /** The account at that issuer (`sub`). */
  readonly sub: string
  /** The MQTT client id from the issuer's client id claim, when present. */
  readonly clientId: string | undefined
  readonly username: string | undefined
  readonly groups: readonly string[]
  /** All verified claims (for ACL templates keyed by claims). */
  readonly claims: JwtPayload
}

const WHAT = 'subject_token'

/**
 * Verifies an RFC 8693 subject token from a trusted issuer: an ID token
 * (`aud` = an accepted client id) or an RFC 9068 JWT access token (`aud` =
 * this exchange, `client_id` an accepted client id). `jwt` means either,
 * told apart by `typ: at+jwt`. Throws core token errors (all map to
 * `invalid_request`) naming the reason; the token is never echoed.
 */
export async function verifySubjectToken(token: string, tokenType: string, policy: SubjectTokenPolicy): Promise<SubjectIdentity> {
  const { header, payload: unverified } = decodeJws(token, WHAT)
  if (normalizeTyp(header.typ) === BROKER_TOKEN_TYP) {
    throw new TokenTypeInvalid(`${WHAT} is a broker token; broker tokens cannot be exchanged`)
  }
  const issuer = policy.issuers.find((i) => i.issuer === unverified.iss)
  if (!issuer) throw new TokenIssuerInvalid(`${WHAT} issuer is not trusted`)
  const access = tokenType === TOKEN_TYPE.accessToken || (tokenType === TOKEN_TYPE.jwt && normalizeTyp(header.typ) === 'at+jwt')
  const { payload } = await verifyJwt(token, issuer.keys, {
    algorithms: IDP_TOKEN_ALGS,
    issuer: issuer.issuer,
    audience: access ? policy.audiences : issuer.clientIds,
    requiredClaims: ['exp', 'sub'],
    maxTokenAge: policy.maxAge,
    now: policy.now,
  }, WHAT)
  const client = access ? payload.client_id ?? payload.azp : payload.azp
  if ((access || client !== undefined) && !issuer.clientIds.includes(String(client))) {
    throw new TokenAudienceInvalid(`${WHAT} was issued to a client that is not accepted here`)
  }
  return {
    issuer,
    sub: String(payload.sub),
    ...issuer.mapClaims(payload),
    claims: payload,
  }
}

function normalizeTyp(typ: unknown): string | undefined {
  return typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : undefined
}
