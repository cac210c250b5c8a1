import { constants } from 'node:crypto'

/** How node:crypto verifies (and signs) each asymmetric JWS algorithm. */
export interface AlgorithmSpec {
  /** Digest for node:crypto's sign/verify; null for EdDSA. */
  readonly hash: string | null
  readonly family: 'eddsa' | 'ecdsa' | 'rsa' | 'rsa-pss'
  /** ECDSA only: the curve (node's name) and the IEEE P1363 signature length in bytes. */
  readonly curve?: string
  readonly signatureBytes?: number
}

/** The asymmetric algorithms this package verifies and signs (RFC 7518 §3, RFC 8037). */
export const ASYMMETRIC: Readonly<Record<string, AlgorithmSpec>> = Object.freeze({
  EdDSA: { hash: null, family: 'eddsa' },
  ES256: { hash: 'sha256', family: 'ecdsa', curve: 'prime256v1', signatureBytes: 64 },
  ES384: { hash: 'sha384', family: 'ecdsa', curve: 'secp384r1', signatureBytes: 96 },
  ES512: { hash: 'sha512', family: 'ecdsa', curve: 'secp521r1', signatureBytes: 132 },
  RS256: { hash: 'sha256', family: 'rsa' },
  RS384: { hash: 'sha384', family: 'rsa' },
  RS512: { hash: 'sha512', family: 'rsa' },
  PS256: { hash: 'sha256', family: 'rsa-pss' },
  PS384: { hash: 'sha384', family: 'rsa-pss' },
  PS512: { hash: 'sha512', family: 'rsa-pss' },
})

/** HMAC algorithms: signing only (a JWKS holds public keys, so nothing here verifies HS*). */
export const HMAC: Readonly<Record<string, string>> = Object.freeze({ HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' })

/** Smallest RSA modulus accepted, bits (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048

/** PSS parameters of RFC 7518 §3.5: MGF1 with the same digest, salt as long as the digest. */
export const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } as const
