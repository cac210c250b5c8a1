import { createPublicKey } from 'node:crypto'
import type { JsonWebKey, KeyObject } from 'node:crypto'
import { isRecord } from '@mqtt-oidc/core/is-record'
import { ASYMMETRIC } from './algorithms.js'
import { keyFitsAlg } from './key-fits-alg.js'

/** One usable verification key from a JWKS. */
export interface VerificationKey {
  readonly kid: string | undefined
  readonly key: KeyObject
  /** The algorithms this key can verify (type, curve, size, the JWK's `alg`), worked out once at import. */
  readonly algs: ReadonlySet<string>
}

const ALGS = Object.keys(ASYMMETRIC)
/** Members only a private or secret JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/**
 * A JWKS document as node:crypto public KeyObjects. Skipped, never fatal:
 * keys that are not for signatures (`use` other than `sig`, `key_ops`
 * without `verify`), secret (`oct`) or private keys (a JWKS that publishes
 * them is broken; using them would be worse), a non-string `kid` or `alg`,
 * and keys no supported algorithm can use (RSA under 2048 bits, unknown
 * curves). A document that is not a JWKS, or holds no usable key, throws: the
 * caller keeps its last good keys rather than dropping to none.
 */
export function parseJwks(body: unknown): VerificationKey[] {
  if (!isRecord(body) || !Array.isArray(body.keys)) throw new TypeError('not a JWKS: no "keys" array')
  const keys: VerificationKey[] = []
  for (const jwk of body.keys) {
    if (!isRecord(jwk) || typeof jwk.kty !== 'string' || jwk.kty === 'oct') continue
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) continue
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue
    if ((jwk.kid !== undefined && typeof jwk.kid !== 'string') || (jwk.alg !== undefined && typeof jwk.alg !== 'string')) continue
    let key: KeyObject
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    } catch {
      continue // an unimportable key is skipped: the others may still be good
    }
    const algs = new Set(ALGS.filter((alg) => keyFitsAlg(key, jwk.alg as string | undefined, alg)))
    if (algs.size > 0) keys.push({ kid: jwk.kid, key, algs })
  }
  if (keys.length === 0) throw new TypeError('the JWKS holds no usable signature key')
  return keys
}

/** The keys of `keys` that may verify a JWS with this `kid` (any, when the token has none) and `alg`. */
export function matchingKeys(keys: readonly VerificationKey[], kid: string | undefined, alg: string): KeyObject[] {
  const found: KeyObject[] = []
  for (const k of keys) if ((kid === undefined || k.kid === kid) && k.algs.has(alg)) found.push(k.key)
  return found
}
