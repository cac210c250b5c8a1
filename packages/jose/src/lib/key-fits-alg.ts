import type { KeyObject } from 'node:crypto'
import { ASYMMETRIC, MIN_RSA_BITS } from './algorithms.js'

/**
 * Whether a public key can verify a JWS with header `alg`: the right key
 * type, the curve of the alg (ES256 on P-256 only, ...), RSA of 2048 bits or
 * more, and the JWK's own `alg` when it names one. Worked out once per key
 * when a JWKS is imported, never per token.
 */
export function keyFitsAlg(key: KeyObject, jwkAlg: string | undefined, alg: string): boolean {
  if (jwkAlg !== undefined && jwkAlg !== alg) return false
  const spec = ASYMMETRIC[alg]
  if (!spec || key.type !== 'public') return false
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails
  switch (spec.family) {
    case 'eddsa':
      return type === 'ed25519' || type === 'ed448'
    case 'ecdsa':
      return type === 'ec' && details?.namedCurve === spec.curve
    case 'rsa':
      return type === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS
    case 'rsa-pss':
      return (type === 'rsa' || type === 'rsa-pss') && (details?.modulusLength ?? 0) >= MIN_RSA_BITS
  }
}
