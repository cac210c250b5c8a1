import { constants, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

const HASH: Record<string, string | null> = {
  EdDSA: null, ES256: 'sha256', ES384: 'sha384', RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
}
/** Algorithms this verifier can check. */
export const SUPPORTED_ALGS: readonly string[] = Object.keys(HASH)

const EC_SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96 }

/**
 * Verifies a JWS signature with node:crypto directly (one native call; no
 * WebCrypto round trip). The caller has already checked that the key fits
 * `alg` (`keyFitsAlg`). Returns false for any malformed signature.
 */
export function verifySignature(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  const hash = HASH[alg]
  if (hash === undefined) return false
  try {
    if (alg.startsWith('ES')) {
      if (signature.length !== EC_SIGNATURE_BYTES[alg]) return false
      return verify(hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
    }
    if (alg.startsWith('PS')) {
      return verify(hash, signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)
    }
    return verify(hash, signingInput, key, signature)
  } catch {
    return false
  }
}
