import { checkClaims } from './lib/check-claims.js'
import { compileClaimRules } from './lib/compile-rules.js'
import type { JwtPayload } from './types.js'

export interface JwtClaimRules {
  /** The expected `iss`. Required: there is no "any issuer". */
  readonly issuer: string
  /** The accepted `aud` value(s). Required: there is no "any audience". */
  readonly audience: string | readonly string[]
  /** Claims that must be present besides `iss` and `aud` (e.g. `exp`, `sub`). Default none. */
  readonly requiredClaims?: readonly string[] | undefined
  /** Oldest acceptable `iat`, seconds before now (then `iat` is required). Default: no limit. */
  readonly maxTokenAge?: number | undefined
  /** Leeway for `exp`, `nbf` and a future `iat`, seconds. Default 5 (DEFAULT_CLOCK_TOLERANCE). */
  readonly clockTolerance?: number | undefined
  /** How messages name the token. Default "token". */
  readonly what?: string | undefined
}

/**
 * The strict claim rules, one set for every caller (exchange and broker):
 *
 * - `iss` present and equal to `issuer` (TokenIssuerInvalid).
 * - `aud` present; a string or a non-empty array of strings, EVERY value
 *   accepted by the caller: naming none is another recipient's token
 *   (TokenAudienceInvalid), naming one and others too is refused as such
 *   (TokenClaimsInvalid).
 * - `requiredClaims` present (TokenClaimsInvalid, reason `missing`);
 *   `sub` and `jti`, when present, strings.
 * - `exp`, `nbf`, `iat`, when present: finite, non-negative seconds below
 *   MAX_NUMERIC_DATE (a time in milliseconds is refused, reason `invalid`).
 * - `nbf` not after now + tolerance (TokenNotYetValid), `exp` after
 *   now - tolerance (TokenExpired), `iat` not after now + tolerance
 *   (TokenNotYetValid, claim `iat`), and with `maxTokenAge`, `iat` not older.
 *
 * Errors carry `claim` and `reason` as jose's do. `now` is epoch seconds.
 *
 * @example checkJwtClaims(payload, { issuer: 'https://exchange', audience: 'demo' })
 */
export function checkJwtClaims(payload: JwtPayload, rules: JwtClaimRules, now = Date.now() / 1000): void {
  checkClaims(payload, compileClaimRules(rules), now)
}
