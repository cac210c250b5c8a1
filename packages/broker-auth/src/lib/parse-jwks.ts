import { createPublicKey } from 'node:crypto'
import type { JsonWebKey, KeyObject } from 'node:crypto'

/** One usable verification key from a JWKS. */
export interface VerificationKey {
  /** JWK `kid`, if any. */
  readonly kid: string | undefined
  /** JWK `alg`, if any: when present, the only algorithm this key verifies. */
  readonly alg: string | undefined
  readonly key: KeyObject
  /** The algorithms this key can verify (key type, curve, size and JWK `alg`), worked out once at import. */
  readonly algs: ReadonlySet<string>
}

const ALGS = ['EdDSA', 'ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Turns a JWKS document into node:crypto public KeyObjects. Keys that are not
 * signature keys, carry private material, or cannot be imported are skipped;
 * a document that is not a JWKS, or that holds no usable key at all, throws
 * (the caller keeps its last good keys rather than dropping to none).
 */
export function parseJwks(body: unknown): VerificationKey[] {
  if (!isObject(body) || !Array.isArray(body.keys)) throw new TypeError('JWKS: not an object with a "keys" array')
  const keys: VerificationKey[] = []
  for (const jwk of body.keys) {
    if (!isObject(jwk) || typeof jwk.kty !== 'string') continue
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    if ('d' in jwk || jwk.kty === 'oct') continue // never a secret or private key
    if (jwk.kid !== undefined && typeof jwk.kid !== 'string') continue
    if (jwk.alg !== undefined && typeof jwk.alg !== 'string') continue
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
      const k = { kid: jwk.kid as string | undefined, alg: jwk.alg as string | undefined, key }
      keys.push({ ...k, algs: new Set(ALGS.filter((alg) => keyFitsAlg(k, alg))) })
    } catch {
      // an unimportable key is skipped, not fatal: the others may still be good
    }
  }
  if (keys.length === 0) throw new TypeError('JWKS: no usable signature key')
  return keys
}

/** Whether `key` can verify a JWS with header `alg` (key type, curve and size must fit). */
export function keyFitsAlg(k: Pick<VerificationKey, 'alg' | 'key'>, alg: string): boolean {
  if (k.alg !== undefined && k.alg !== alg) return false
  const type = k.key.asymmetricKeyType
  const details = k.key.asymmetricKeyDetails
  switch (alg) {
    case 'EdDSA': return type === 'ed25519' || type === 'ed448'
    case 'ES256': return type === 'ec' && details?.namedCurve === 'prime256v1'
    case 'ES384': return type === 'ec' && details?.namedCurve === 'secp384r1'
    case 'RS256': case 'RS384': case 'RS512': return type === 'rsa' && (details?.modulusLength ?? 0) >= 2048
    case 'PS256': case 'PS384': case 'PS512': return (type === 'rsa' || type === 'rsa-pss') && (details?.modulusLength ?? 0) >= 2048
    default: return false
  }
}
