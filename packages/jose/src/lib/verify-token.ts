import type { KeyObject } from 'node:crypto'
import { TokenSignatureInvalid } from '@mqtt-oidc/core/errors'
import type { KeySource, VerifiedJwt } from '../types.js'
import { checkClaims } from './check-claims.js'
import type { ClaimRules, HeaderRules } from './compile-rules.js'
import { parseJsonObject } from './parse-json-object.js'
import { splitJws } from './split-jws.js'
import type { HeaderMemo } from './split-jws.js'
import { verifySignature } from './verify-signature.js'

/**
 * decode → key → signature → payload → claims. The payload is parsed only
 * once the signature verified (a forged token costs one verify, no JSON).
 * The key source is asked synchronously first: the hot path awaits nothing
 * but the caller.
 */
export async function verifyToken(token: string, keys: KeySource, header: HeaderRules, claims: ClaimRules, now: number, memo?: HeaderMemo): Promise<VerifiedJwt> {
  const jws = splitJws(token, header, memo)
  const candidates = keys.lookup(jws.kid, jws.alg) ?? await keys.keysFor(jws.kid, jws.alg)
  let key: KeyObject | undefined
  for (const k of candidates) {
    if (verifySignature(jws.alg, k, jws.signingInput, jws.signature)) {
      key = k
      break
    }
  }
  if (!key) {
    throw new TokenSignatureInvalid(candidates.length > 0 ? `${header.what} signature is invalid` : `${header.what} is not signed by a known key of ${keys.label}`)
  }
  const payload = parseJsonObject(Buffer.from(jws.payloadSegment, 'base64url'), header.what, 'payload')
  checkClaims(payload, claims, now)
  return { header: jws.header, payload, key }
}
