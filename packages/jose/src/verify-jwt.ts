import { compileClaimRules, compileHeaderRules } from './lib/compile-rules.js'
import { verifyToken } from './lib/verify-token.js'
import type { JwtClaimRules } from './check-jwt-claims.js'
import type { DecodeJwsOptions } from './decode-jws.js'
import type { KeySource, VerifiedJwt } from './types.js'

export interface VerifyJwtOptions extends DecodeJwsOptions, JwtClaimRules {
  /** Current time, epoch seconds. Default: the system clock. */
  readonly now?: number | undefined
}

/**
 * Verifies a compact JWS JWT: the header rules of decodeJws, a key from
 * `keys` that fits the alg (RSA >= 2048 bits, the alg's EC curve, never a
 * private or `oct` JWK), the signature with node:crypto, then the strict
 * claim rules of checkJwtClaims. Key choice: the keys whose `kid` equals the
 * token's that fit its `alg`; a token without `kid` is tried against every
 * key that fits its `alg`. Every failure is one of core's typed errors,
 * whose message names the token (`what`) and the reason, never the token.
 *
 * For many tokens under the same options, createJwtVerifier does the option
 * checks once and remembers checked headers.
 *
 * @example
 * const { payload } = await verifyJwt(token, jwks, {
 *   algorithms: ['RS256'], typ: 'at+jwt', issuer: 'https://idp', audience: 'https://exchange', requiredClaims: ['exp'] })
 */
export function verifyJwt(token: string, keys: KeySource, options: VerifyJwtOptions): Promise<VerifiedJwt> {
  return verifyToken(token, keys, compileHeaderRules(options), compileClaimRules(options), options.now ?? Date.now() / 1000)
}
