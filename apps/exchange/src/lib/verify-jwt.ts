import { constants, verify } from 'node:crypto'
import type { KeyObject, VerifyKeyObjectInput } from 'node:crypto'
import {
  TokenAlgorithmNotAllowed, TokenAudienceInvalid, TokenClaimsInvalid, TokenExpired, TokenIssuerInvalid,
  TokenNotYetValid, TokenSignatureInvalid, TokenTypeInvalid,
} from '@mqtt-oidc/core'
import type { IssuerKeys } from './issuer-keys.js'
import { decodeJws } from './decode-jws.js'
import type { JwsHeader, JwtPayload } from './decode-jws.js'

/** Asymmetric algorithms accepted from an identity provider (never `none`, never HS*). */
export const IDP_TOKEN_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const

export interface VerifyJwtOptions {
  readonly algorithms: readonly string[]
  /** Required header `typ` (compared without `application/`, case-insensitively). */
  readonly typ?: string | undefined
  readonly issuer: string
  /** `aud` must name at least one of these. */
  readonly audience: readonly string[]
  readonly requiredClaims?: readonly string[] | undefined
  /** Oldest acceptable `iat`, seconds before now (requires `iat`). */
  readonly maxTokenAge?: number | undefined
  /** Seconds of clock skew allowed on exp/nbf/iat. Default 0. */
  readonly clockTolerance?: number | undefined
  /** Current time, epoch seconds. */
  readonly now?: number | undefined
}

export interface VerifiedJwt {
  readonly payload: JwtPayload
  readonly protectedHeader: JwsHeader
}

const VERIFY: Readonly<Record<string, { hash: string | null; options: Omit<VerifyKeyObjectInput, 'key'> }>> = {
  RS256: { hash: 'sha256', options: {} },
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, options: {} },
}

/**
 * Verifies a compact JWS JWT with node:crypto and cached KeyObjects, then
 * checks its claims. Every failure is one of core's typed token errors whose
 * text names the token (`what`: "subject_token", "access token") and the
 * reason, never the token or its claims.
 */
export async function verifyJwt(token: string, keys: IssuerKeys, options: VerifyJwtOptions, what: string): Promise<VerifiedJwt> {
  const jws = decodeJws(token, what)
  const { alg } = jws.header
  if (!options.algorithms.includes(alg) || !VERIFY[alg]) throw new TokenAlgorithmNotAllowed(`${what} alg is not allowed`)
  const key = await keys.key(jws.header)
  if (!key) throw new TokenSignatureInvalid(`${what} is not signed by a known key of the identity provider`)
  if (!verifySignature(alg, jws.signingInput, jws.signature, key)) throw new TokenSignatureInvalid(`${what} signature is invalid`)
  checkClaims(jws.header, jws.payload, options, what)
  return { payload: jws.payload, protectedHeader: jws.header }
}

function verifySignature(alg: string, input: string, signature: Buffer, key: KeyObject): boolean {
  const { hash, options } = VERIFY[alg]!
  try {
    return verify(hash, Buffer.from(input), { ...options, key }, signature)
  } catch {
    return false
  }
}

/** Claim checks in jose's order: typ, required claims, iss, aud, then times. */
function checkClaims(header: JwsHeader, p: JwtPayload, o: VerifyJwtOptions, what: string): void {
  if (o.typ !== undefined && normalizeTyp(header.typ) !== normalizeTyp(o.typ)) throw new TokenTypeInvalid(`${what} has the wrong typ header`)
  const required = new Set([...(o.requiredClaims ?? []), 'iss', 'aud', ...(o.maxTokenAge !== undefined ? ['iat'] : [])])
  for (const claim of required) if (p[claim] === undefined) throw new TokenClaimsInvalid(`${what} has no ${claim} claim`)
  if (p.iss !== o.issuer) throw new TokenIssuerInvalid(`${what} issuer is not trusted`)
  const aud = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud : []
  if (!aud.some((a) => o.audience.includes(a as string))) throw new TokenAudienceInvalid(`${what} audience is not accepted here`)
  const now = o.now ?? Math.floor(Date.now() / 1000)
  const skew = o.clockTolerance ?? 0
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    if (p[claim] !== undefined && !Number.isFinite(p[claim])) throw new TokenClaimsInvalid(`${what} has an invalid ${claim} claim`)
  }
  if (p.nbf !== undefined && (p.nbf as number) > now + skew) throw new TokenNotYetValid(`${what} is not yet valid`)
  if (p.exp !== undefined && (p.exp as number) <= now - skew) throw new TokenExpired(`${what} has expired`)
  if (o.maxTokenAge !== undefined && now - (p.iat as number) - skew > o.maxTokenAge) throw new TokenExpired(`${what} is too old`)
}

function normalizeTyp(typ: unknown): string | undefined {
  return typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : undefined
}
