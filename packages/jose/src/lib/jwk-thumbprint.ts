import { createHash } from 'node:crypto'

/** The required members of each key type, in the lexicographic order RFC 7638 §3.2 hashes them. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
}

/** The RFC 7638 SHA-256 thumbprint of a JWK (private or public: only the public members count), base64url. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members = REQUIRED[String(jwk.kty)]
  if (!members) throw new TypeError(`no thumbprint for kty ${String(jwk.kty)}`)
  const canonical = `{${members
    .map((m) => {
      if (typeof jwk[m] !== 'string') throw new TypeError(`JWK member ${m} missing`)
      return `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`
    })
    .join(',')}}`
  return createHash('sha256').update(canonical).digest('base64url')
}
