import { TokenAudienceInvalid, TokenClaimsInvalid, TokenExpired, TokenIssuerInvalid, TokenNotYetValid } from '@mqtt-oidc/core/errors'
import type { JwtPayload } from '../types.js'
import { MAX_NUMERIC_DATE } from '../defaults.js'
import type { ClaimRules } from './compile-rules.js'

/**
 * The strict claim rules (see checkJwtClaims), in jose's order: presence,
 * form, `iss`, `aud`, then times. `now` is epoch seconds.
 */
export function checkClaims(p: JwtPayload, r: ClaimRules, now: number): void {
  const { what } = r
  if (p.iss === undefined) throw new TokenIssuerInvalid(`${what} has no iss claim`, { claim: 'iss', reason: 'missing' })
  if (p.aud === undefined) throw new TokenAudienceInvalid(`${what} has no aud claim`, { claim: 'aud', reason: 'missing' })
  for (const claim of r.required) if (p[claim] === undefined) throw new TokenClaimsInvalid(`${what} has no ${claim} claim`, { claim, reason: 'missing' })
  if (r.maxTokenAge !== undefined && p.iat === undefined) throw new TokenClaimsInvalid(`${what} has no iat claim`, { claim: 'iat', reason: 'missing' })
  if (p.sub !== undefined && typeof p.sub !== 'string') throw invalid(what, 'sub')
  if (p.jti !== undefined && typeof p.jti !== 'string') throw invalid(what, 'jti')
  if (p.iat !== undefined) checkNumericDate(p.iat, 'iat', what)
  if (p.nbf !== undefined) checkNumericDate(p.nbf, 'nbf', what)
  if (p.exp !== undefined) checkNumericDate(p.exp, 'exp', what)

  if (p.iss !== r.issuer)
    throw new TokenIssuerInvalid(`${what} issuer is not trusted`, { claim: 'iss', reason: typeof p.iss === 'string' ? 'check_failed' : 'invalid' })
  checkAudience(p.aud, r)

  checkTimes(p, r, now)
}

/**
 * The rules that change with time alone, on a payload whose claims passed
 * (numeric dates already checked): `nbf` and `iat` not in the future, `exp`
 * not past, `iat` not older than `maxTokenAge`, each with the tolerance.
 */
export function checkTimes(p: JwtPayload, r: ClaimRules, now: number): void {
  const { what } = r
  const skew = r.clockTolerance
  if (p.nbf !== undefined && (p.nbf as number) > now + skew) throw new TokenNotYetValid(`${what} is not yet valid`, { claim: 'nbf', reason: 'check_failed' })
  if (p.exp !== undefined && (p.exp as number) <= now - skew) throw new TokenExpired(`${what} has expired`, { claim: 'exp', reason: 'check_failed' })
  if (p.iat !== undefined && (p.iat as number) > now + skew) {
    throw new TokenNotYetValid(`${what} was issued in the future (check the clocks)`, { claim: 'iat', reason: 'check_failed' })
  }
  if (r.maxTokenAge !== undefined && now - (p.iat as number) - skew > r.maxTokenAge)
    throw new TokenExpired(`${what} is too old`, { claim: 'iat', reason: 'check_failed' })
}

/**
 * One rule for `aud`, whoever calls: a string or a non-empty array of
 * strings in which EVERY value is an audience the caller accepts. Naming
 * none of them is another recipient's token (ERR_TOKEN_AUDIENCE); naming
 * one of them and others too is a token several recipients would accept,
 * refused as such (ERR_TOKEN_CLAIMS), as OpenID Connect Core §3.1.3.7
 * requires of ID tokens and as a broker must (one token, one broker).
 */
function checkAudience(aud: unknown, r: ClaimRules): void {
  if (typeof aud === 'string') {
    if (r.audiences.has(aud)) return
    throw new TokenAudienceInvalid(`${r.what} audience is not accepted here`, { claim: 'aud', reason: 'check_failed' })
  }
  if (!Array.isArray(aud) || aud.length === 0 || aud.some((a) => typeof a !== 'string')) {
    throw new TokenAudienceInvalid(`${r.what} has an invalid aud claim`, { claim: 'aud', reason: 'invalid' })
  }
  const accepted = aud.filter((a: string) => r.audiences.has(a)).length
  if (accepted === 0) throw new TokenAudienceInvalid(`${r.what} audience is not accepted here`, { claim: 'aud', reason: 'check_failed' })
  if (accepted < aud.length) throw new TokenClaimsInvalid(`${r.what} audience names other recipients too`, { claim: 'aud', reason: 'check_failed' })
}

/** A NumericDate: a finite number of seconds, not negative, and not one written in milliseconds (MAX_NUMERIC_DATE). */
function checkNumericDate(value: unknown, claim: string, what: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value < Infinity)) throw invalid(what, claim)
  if (value >= MAX_NUMERIC_DATE) {
    throw new TokenClaimsInvalid(`${what} has an invalid ${claim} claim: a time in milliseconds (NumericDate is in seconds)`, { claim, reason: 'invalid' })
  }
}

const invalid = (what: string, claim: string): TokenClaimsInvalid =>
  new TokenClaimsInvalid(`${what} has an invalid ${claim} claim`, { claim, reason: 'invalid' })
