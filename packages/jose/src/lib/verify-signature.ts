import { verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { ASYMMETRIC, PSS } from './algorithms.js'

/**
 * Verifies a JWS signature with node:crypto directly (one native call, no
 * WebCrypto round trip). The key already fits `alg` (keyFitsAlg at import).
 * False for any malformed signature, never a throw.
 */
export function verifySignature(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  const spec = ASYMMETRIC[alg]
  if (!spec) return false
  try {
    switch (spec.family) {
      case 'ecdsa':
        if (signature.length !== spec.signatureBytes) return false
        return verify(spec.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
      case 'rsa-pss':
        return verify(spec.hash, signingInput, { key, ...PSS }, signature)
      default:
        return verify(spec.hash, signingInput, key, signature)
    }
  } catch {
    return false
  }
}
