import { BROKER_TOKEN_TYP, TOKEN_TYPE, TokenAudienceInvalid, TokenIssuerInvalid, TokenTypeInvalid } from '@mqtt-oidc/core'
import { ACCESS_TOKEN_TYP, ID_TOKEN_TYP, createJwtVerifier, decodeJws, decodeJwtPayload, normalizeTyp } from '@mqtt-oidc/jose'
import type { JwtPayload, JwtVerifier } from '@mqtt-oidc/jose'
import type { TrustedIssuer } from './lib/trusted-issuers.js'

/** Asymmetric algorithms accepted from an identity provider (never `none`, never HS*). */
export const IDP_TOKEN_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const

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
/** A JWT access token of any trusted issuer: RFC 9068's `at+jwt`, or `JWT`/none from issuers that predate it. */
const ANY_ACCESS_TOKEN_TYP = { typ: [...ACCESS_TOKEN_TYP.typ, 'JWT'], allowMissingTyp: true }
/** The header rules of a first look, before the issuer (and so the kind of token) is known. */
const PEEK = { algorithms: IDP_TOKEN_ALGS, what: WHAT }

/**
 * Verifies an RFC 8693 subject token from a trusted issuer with the JOSE
 * core's strict rules: an ID token (`aud` = accepted client ids, `typ` an ID
 * token's) or a JWT access token (`aud` = this exchange, `client_id` an
 * accepted client id). `jwt` means either, told apart by `typ: at+jwt`.
 * Throws core token errors (all map to `invalid_request`) naming the
 * reason; the token is never echoed.
 */
export async function verifySubjectToken(token: string, tokenType: string, policy: SubjectTokenPolicy): Promise<SubjectIdentity> {
  const jws = decodeJws(token, PEEK)
  const typ = jws.header.typ === undefined ? undefined : normalizeTyp(jws.header.typ)
  if (typ === BROKER_TOKEN_TYP)
    throw new TokenTypeInvalid(`${WHAT} is a broker token; broker tokens cannot be exchanged`, { claim: 'typ', reason: 'check_failed' })
  // Unverified: only to pick the issuer whose keys verify it.
  const issuer = policy.issuers.find((i) => i.issuer === decodeJwtPayload(jws, WHAT).iss)
  if (!issuer) throw new TokenIssuerInvalid(`${WHAT} issuer is not trusted`, { claim: 'iss', reason: 'check_failed' })
  const access = tokenType === TOKEN_TYPE.accessToken || (tokenType === TOKEN_TYPE.jwt && typ === 'at+jwt')
  const { payload } = await verifierFor(issuer, access, policy).verify(token, policy.now)
  const client = access ? (payload.client_id ?? payload.azp) : payload.azp
  if ((access || client !== undefined) && !issuer.clientIds.includes(String(client))) {
    throw new TokenAudienceInvalid(`${WHAT} was issued to a client that is not accepted here`, { claim: access ? 'client_id' : 'azp', reason: 'check_failed' })
  }
  return {
    issuer,
    sub: payload.sub as string,
    ...issuer.mapClaims(payload),
    claims: payload,
  }
}

const verifiers = new WeakMap<TrustedIssuer, Map<string, JwtVerifier>>()

/** The JOSE core's verifier for this issuer and kind of token, made once (options checked once, headers remembered). */
function verifierFor(issuer: TrustedIssuer, access: boolean, policy: SubjectTokenPolicy): JwtVerifier {
  let mine = verifiers.get(issuer)
  if (!mine) verifiers.set(issuer, (mine = new Map<string, JwtVerifier>()))
  const key = `${access}\0${policy.maxAge}\0${policy.audiences.join('\0')}`
  let verifier = mine.get(key)
  if (!verifier) {
    verifier = createJwtVerifier(issuer.keys, {
      algorithms: IDP_TOKEN_ALGS,
      ...(access ? ANY_ACCESS_TOKEN_TYP : ID_TOKEN_TYP),
      issuer: issuer.issuer,
      audience: access ? policy.audiences : issuer.clientIds,
      requiredClaims: ['exp', 'sub'],
      maxTokenAge: policy.maxAge,
      what: WHAT,
    })
    mine.set(key, verifier)
  }
  return verifier
}
