import { TokenAlgorithmNotAllowed, TokenMalformed, TokenTypeInvalid } from '@mqtt-oidc/core/errors'
import type { JwsHeader } from '../types.js'
import { decodeBase64url } from './base64url.js'
import type { HeaderRules } from './compile-rules.js'
import { normalizeTyp } from '../normalize-typ.js'
import { parseJsonObject } from './parse-json-object.js'

/** A compact JWS split, its protected header checked; the signature is not verified and the payload not parsed yet. */
export interface DecodedJws {
  readonly header: JwsHeader
  readonly alg: string
  readonly kid: string | undefined
  /** `header.payload` as ASCII bytes: what the signature covers. */
  readonly signingInput: Buffer
  readonly signature: Buffer
  /** The payload's bytes, parsed as JSON only once the signature verified. */
  readonly payload: Buffer
  /** The payload segment as it came (base64url). */
  readonly payloadSegment: string
}

/** Headers already checked under one set of rules, by their segment (an issuer's tokens share one header string). */
export type HeaderMemo = Map<string, JwsHeader>

const MEMO_LIMIT = 64

/**
 * Splits a compact JWS (exactly three segments, unpadded base64url, a
 * signature) and checks its header under `rules` (see decodeJws). With a
 * memo, a header string checked once is not parsed again.
 */
export function splitJws(token: string, rules: HeaderRules, memo?: HeaderMemo): DecodedJws {
  const { what } = rules
  if (typeof token !== 'string' || token.length > rules.maxTokenLength) throw new TokenMalformed(`${what} is longer than ${rules.maxTokenLength} characters`)
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) !== -1) {
    throw new TokenMalformed(`${what} is not a well-formed signed JWT`)
  }
  const h = token.slice(0, first)
  const payloadSegment = token.slice(first + 1, second)
  const s = token.slice(second + 1)
  let header = memo?.get(h)
  if (!header) {
    header = checkHeader(h, rules)
    if (memo) {
      if (memo.size >= MEMO_LIMIT) memo.clear()
      memo.set(h, header)
    }
  }
  // after the header: an unsigned `alg: none` token is refused for its alg, the clearer reason
  const signature = s.length === 0 ? undefined : decodeBase64url(s)
  const payload = decodeBase64url(payloadSegment)
  if (!signature || !payload) throw new TokenMalformed(`${what} is not a well-formed signed JWT`)
  return {
    header,
    alg: header.alg,
    kid: header.kid,
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature,
    payload,
    payloadSegment,
  }
}

/**
 * The header rules, in jose's order: `alg` on the caller's allow-list (so
 * never `none`, never HS* against a public key), no `crit` (no JWS
 * extension is understood, RFC 7515 §4.1.11), no `b64` (an unencoded
 * payload is not a JWT, RFC 7797), the caller's `typ` (RFC 8725 §3.11), a
 * string `kid`. `jku`, `x5u`, `jwk` and `x5c` are ignored: keys come only
 * from the caller's key source.
 */
function checkHeader(segment: string, rules: HeaderRules): JwsHeader {
  const { what } = rules
  const bytes = decodeBase64url(segment)
  if (!bytes) throw new TokenMalformed(`${what} is not a well-formed signed JWT`)
  const header = parseJsonObject(bytes, what, 'header')
  const { alg, typ, kid } = header
  if (typeof alg !== 'string' || !rules.algorithms.has(alg)) {
    throw new TokenAlgorithmNotAllowed(`${what} alg is not allowed`, { claim: 'alg', reason: alg === undefined ? 'missing' : 'check_failed' })
  }
  if ('crit' in header) throw new TokenMalformed(`${what} has a crit header: no JWS extension is understood`, { claim: 'crit', reason: 'unsupported' })
  if ('b64' in header) throw new TokenMalformed(`${what} has a b64 header: unencoded payloads are refused`, { claim: 'b64', reason: 'unsupported' })
  if (typ !== undefined && typeof typ !== 'string') throw new TokenTypeInvalid(`${what} has the wrong typ header`, { claim: 'typ', reason: 'invalid' })
  if (rules.typs && (typ === undefined ? !rules.allowMissingTyp : !rules.typs.has(normalizeTyp(typ)))) {
    throw new TokenTypeInvalid(`${what} has the wrong typ header`, { claim: 'typ', reason: typ === undefined ? 'missing' : 'check_failed' })
  }
  if (kid !== undefined && typeof kid !== 'string') throw new TokenMalformed(`${what} kid is not a string`, { claim: 'kid', reason: 'invalid' })
  return header as JwsHeader
}
