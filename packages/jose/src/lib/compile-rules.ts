import { ASYMMETRIC } from './algorithms.js'
import { normalizeTyp } from '../normalize-typ.js'
import { DEFAULT_CLOCK_TOLERANCE, DEFAULT_MAX_TOKEN_LENGTH } from '../defaults.js'
import type { JwtClaimRules } from '../check-jwt-claims.js'
import type { DecodeJwsOptions } from '../decode-jws.js'

/** What `decodeJws` checks in a header, worked out once per caller. */
export interface HeaderRules {
  readonly algorithms: ReadonlySet<string>
  /** Accepted `typ` values, normalized; undefined = any. */
  readonly typs: ReadonlySet<string> | undefined
  readonly allowMissingTyp: boolean
  readonly maxTokenLength: number
  readonly what: string
}

/** What `checkJwtClaims` checks, worked out once per caller. */
export interface ClaimRules {
  readonly issuer: string
  readonly audiences: ReadonlySet<string>
  readonly required: readonly string[]
  readonly maxTokenAge: number | undefined
  readonly clockTolerance: number
  readonly what: string
}

/** Validates a caller's header options; a mistake (none, HS*, an unknown alg) is a TypeError at once, not a silent acceptance later. */
export function compileHeaderRules(o: DecodeJwsOptions): HeaderRules {
  // Read as unknown: JavaScript callers may pass anything, and narrowing the typed field would make it `any[]`.
  const algorithms: unknown = o.algorithms
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError('algorithms: give at least one')
  const refused = o.algorithms.filter((alg) => alg.toLowerCase() === 'none' || alg.toUpperCase().startsWith('HS'))
  if (refused.length > 0) throw new TypeError(`algorithms must be asymmetric (keys come from a JWKS of public keys); refused: ${refused.join(', ')}`)
  const unknown = o.algorithms.filter((alg) => !ASYMMETRIC[alg])
  if (unknown.length > 0) throw new TypeError(`unsupported algorithms: ${unknown.join(', ')}`)
  const typs = o.typ === undefined ? undefined : typeof o.typ === 'string' ? [o.typ] : o.typ
  if (typs?.length === 0) throw new TypeError('typ: give at least one, or leave it out')
  return {
    algorithms: new Set(o.algorithms),
    typs: typs && new Set(typs.map(normalizeTyp)),
    allowMissingTyp: o.allowMissingTyp ?? false,
    maxTokenLength: positive(o.maxTokenLength, DEFAULT_MAX_TOKEN_LENGTH, 'maxTokenLength'),
    what: o.what ?? 'token',
  }
}

/** Validates a caller's claim rules: an issuer and an audience are always required (no "any issuer"). */
export function compileClaimRules(o: JwtClaimRules): ClaimRules {
  if (typeof o.issuer !== 'string' || o.issuer.length === 0) throw new TypeError('issuer: required, the expected "iss"')
  const audiences = typeof o.audience === 'string' ? [o.audience] : o.audience
  if (!Array.isArray(audiences) || audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError('audience: required, the accepted "aud" value(s)')
  }
  return {
    issuer: o.issuer,
    audiences: new Set(audiences),
    required: [...new Set(o.requiredClaims ?? [])].filter((c) => c !== 'iss' && c !== 'aud'),
    maxTokenAge: o.maxTokenAge === undefined ? undefined : positive(o.maxTokenAge, 0, 'maxTokenAge'),
    clockTolerance: positive(o.clockTolerance, DEFAULT_CLOCK_TOLERANCE, 'clockTolerance'),
    what: o.what ?? 'token',
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name}: a number >= 0`)
  return value
}
