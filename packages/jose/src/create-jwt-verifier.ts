import { compileClaimRules, compileHeaderRules } from './lib/compile-rules.js'
import { checkTimes } from './lib/check-claims.js'
import type { HeaderMemo } from './lib/split-jws.js'
import { verifyToken, verifyTokenIfHeld } from './lib/verify-token.js'
import type { JwtClaimRules } from './check-jwt-claims.js'
import type { DecodeJwsOptions } from './decode-jws.js'
import type { JwtPayload, KeySource, VerifiedJwt } from './types.js'

export type JwtVerifierOptions = DecodeJwsOptions & JwtClaimRules

export interface JwtVerifier {
  /** verifyJwt under the bound options; `now` in epoch seconds (default: the system clock). */
  verify(token: string, now?: number): Promise<VerifiedJwt>
  /**
   * The same, synchronously, when the key source already holds the token's
   * keys (no promise on the hot path); undefined when it would have to fetch
   * (then `await verify()`). Throws the same refusals.
   *
   * @example const { payload } = verifier.verifyIfKeysHeld(token) ?? await verifier.verify(token)
   */
  verifyIfKeysHeld(token: string, now?: number): VerifiedJwt | undefined
  /**
   * The rules that change with time alone (`exp`, `nbf`, a future `iat`,
   * `maxTokenAge`), for a payload this verifier accepted before: a cache of
   * verified tokens re-checks them on every hit.
   */
  checkTimes(payload: JwtPayload, now?: number): void
}

/**
 * verifyJwt bound to one key source and one set of options: the options are
 * checked once (a TypeError at construction for `none`, HS*, no issuer or
 * audience), and a header string that passed is remembered (a few dozen at
 * most), so the hot path decodes only the payload.
 *
 * @example
 * const verifier = createJwtVerifier(remoteJwks, { algorithms: ['EdDSA'], typ: 'mqtt-broker+jwt', issuer, audience: 'demo' })
 * const { payload } = await verifier.verify(password)
 */
export function createJwtVerifier(keys: KeySource, options: JwtVerifierOptions): JwtVerifier {
  const header = compileHeaderRules(options)
  const claims = compileClaimRules(options)
  const memo: HeaderMemo = new Map()
  return {
    verify: (token, now = Date.now() / 1000) => verifyToken(token, keys, header, claims, now, memo),
    verifyIfKeysHeld: (token, now = Date.now() / 1000) => verifyTokenIfHeld(token, keys, header, claims, now, memo),
    checkTimes: (payload, now = Date.now() / 1000) => checkTimes(payload, claims, now),
  }
}
