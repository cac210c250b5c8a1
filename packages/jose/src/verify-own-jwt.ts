import { createHmac, createPublicKey, timingSafeEqual } from 'node:crypto'
import { TokenSignatureInvalid } from '@mqtt-oidc/core/errors'
import { DEFAULT_MAX_TOKEN_LENGTH } from './defaults.js'
import { ASYMMETRIC, HMAC } from './lib/algorithms.js'
import { parseJsonObject } from './lib/parse-json-object.js'
import { splitJws } from './lib/split-jws.js'
import { verifySignature } from './lib/verify-signature.js'
import type { JwtPayload, SigningKey } from './types.js'

const ALL_ALGS: ReadonlySet<string> = new Set([...Object.keys(ASYMMETRIC), ...Object.keys(HMAC)])

/**
 * Checks that `token` was signed with one of this service's own signing
 * keys, as the signer holds them (`keyFor` finds one by `kid`): the header
 * names that key's `kid` and `alg`, and the signature verifies with the key's public half, or, for
 * an HMAC key, equals the one recomputed with the secret (compared in
 * constant time). The secret is never taken from the token or a JWKS, so
 * this is not "HS* against a public key". Resolves with the payload under
 * the strict JSON rules; claims are the caller's to check (a holder asking
 * about its own expired token is legitimate). Rejects with
 * `TokenSignatureInvalid` or `TokenMalformed`.
 *
 * @example const payload = verifyOwnJwt(token, (kid) => keys.key(kid), 'broker token')
 */
export function verifyOwnJwt(token: string, keyFor: (kid: string) => SigningKey | undefined, what: string): JwtPayload {
  const jws = splitJws(token, { algorithms: ALL_ALGS, typs: undefined, allowMissingTyp: true, maxTokenLength: DEFAULT_MAX_TOKEN_LENGTH, what })
  const key = jws.kid === undefined ? undefined : keyFor(jws.kid)
  if (!key || key.alg !== jws.alg) throw new TokenSignatureInvalid(`${what} is not signed by a key of ours`, { claim: 'kid', reason: 'check_failed' })
  if (!signatureMatches(key, jws.signingInput, jws.signature)) throw new TokenSignatureInvalid(`${what} signature is invalid`)
  return parseJsonObject(jws.payload, what, 'payload')
}

function signatureMatches(key: SigningKey, signingInput: Buffer, signature: Buffer): boolean {
  const hmac = HMAC[key.alg]
  if (hmac) {
    if (key.key.type !== 'secret') return false
    const expected = createHmac(hmac, key.key).update(signingInput).digest()
    return expected.length === signature.length && timingSafeEqual(expected, signature)
  }
  const publicKey = key.key.type === 'private' ? createPublicKey(key.key) : key.key
  return verifySignature(key.alg, publicKey, signingInput, signature)
}
