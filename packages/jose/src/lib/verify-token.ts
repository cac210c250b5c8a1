import type { KeyObject } from 'node:crypto'
import { TokenSignatureInvalid } from '@mqtt-oidc/core/errors'
import type { KeySource, VerifiedJwt } from '../types.js'
import { checkClaims } from './check-claims.js'
import type { ClaimRules, HeaderRules } from './compile-rules.js'
import { parseJsonObject } from './parse-json-object.js'
import { splitJws } from './split-jws.js'
import type { DecodedJws, HeaderMemo } from './split-jws.js'
import { verifySignature } from './verify-signature.js'

/**
 * decode → key → signature → payload → claims. The payload is parsed only
 * once the signature verified (a forged token costs one verify, no JSON).
 */
export async function verifyToken(
  token: string,
  keys: KeySource,
  header: HeaderRules,
  claims: ClaimRules,
  now: number,
  memo?: HeaderMemo,
): Promise<VerifiedJwt> {
  const jws = splitJws(token, header, memo)
  return finish(jws, keys.lookup(jws.kid, jws.alg) ?? (await keys.keysFor(jws.kid, jws.alg)), keys, header, claims, now)
}

/**
 * verifyToken without a promise when the key source holds the token's keys
 * (the hot path); undefined when it would have to fetch. Throws refusals.
 */
export function verifyTokenIfHeld(
  token: string,
  keys: KeySource,
  header: HeaderRules,
  claims: ClaimRules,
  now: number,
  memo?: HeaderMemo,
): VerifiedJwt | undefined {
  const jws = splitJws(token, header, memo)
  const held = keys.lookup(jws.kid, jws.alg)
  return held && finish(jws, held, keys, header, claims, now)
}

function finish(jws: DecodedJws, candidates: readonly KeyObject[], keys: KeySource, header: HeaderRules, claims: ClaimRules, now: number): VerifiedJwt {
  let key: KeyObject | undefined
  for (const k of candidates) {
    if (verifySignature(jws.alg, k, jws.signingInput, jws.signature)) {
      key = k
      break
    }
  }
  if (!key) {
    throw new TokenSignatureInvalid(
      candidates.length > 0 ? `${header.what} signature is invalid` : `${header.what} is not signed by a known key of ${keys.label}`,
    )
  }
  const payload = parseJsonObject(jws.payload, header.what, 'payload')
  checkClaims(payload, claims, now)
  return { header: jws.header, payload, key }
}
