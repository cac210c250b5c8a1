import { TokenAlgorithmNotAllowed, TokenMalformed, TokenTypeInvalid } from '@mqtt-oidc/core'

/** A compact JWS split and its protected header checked; the signature is not verified yet. */
export interface DecodedJws {
  readonly alg: string
  readonly kid: string | undefined
  /** `header.payload` as ASCII bytes: what the signature covers. */
  readonly signingInput: Buffer
  readonly signature: Buffer
  /** The payload segment (base64url), decoded only after the signature verifies. */
  readonly payloadSegment: string
}

const B64URL = /^[A-Za-z0-9_-]*$/

/** Parses base64url JSON into a plain object, or throws `TokenMalformed`. */
export function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw new TokenMalformed(`${what} is not base64url JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TokenMalformed(`${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** RFC 8725 §3.11 explicit typing, compared as jose does (case-insensitive, optional `application/`). */
function typMatches(typ: unknown, expected: string): boolean {
  if (typeof typ !== 'string') return false
  const t = typ.toLowerCase()
  return t === expected || t === `application/${expected}`
}

/**
 * Splits a compact JWS and checks its protected header: `alg` on the
 * allow-list (never `none`), the expected `typ`, no `crit` (we understand no
 * extension, RFC 7515 §4.1.11) and no `b64` (unencoded payloads are not JWTs).
 * `jku`, `x5u`, `jwk` and `x5c` are ignored: keys come only from the configured JWKS.
 */
export function decodeJws(token: string, algorithms: ReadonlySet<string>, typ: string, headers?: Map<string, CheckedHeader>): DecodedJws {
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) !== -1) throw new TokenMalformed('not a compact JWS (three segments)')
  const h = token.slice(0, first)
  const payloadSegment = token.slice(first + 1, second)
  const s = token.slice(second + 1)
  // an issuer's tokens share one header string: check it once (only headers that passed are remembered)
  let checked = headers?.get(h)
  if (!checked) {
    checked = checkHeader(h, algorithms, typ)
    if (headers) {
      if (headers.size >= MAX_HEADERS) headers.clear()
      headers.set(h, checked)
    }
  }
  if (!B64URL.test(payloadSegment) || !B64URL.test(s)) throw new TokenMalformed('a JWS segment is not base64url')
  if (s.length === 0) throw new TokenMalformed('empty signature')
  return {
    alg: checked.alg,
    kid: checked.kid,
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature: Buffer.from(s, 'base64url'),
    payloadSegment,
  }
}

/** A protected header that passed `checkHeader`. */
export interface CheckedHeader {
  readonly alg: string
  readonly kid: string | undefined
}

const MAX_HEADERS = 64

function checkHeader(h: string, algorithms: ReadonlySet<string>, typ: string): CheckedHeader {
  if (!B64URL.test(h)) throw new TokenMalformed('a JWS segment is not base64url')
  const header = decodeJsonSegment(h, 'JWS header')
  const alg = header.alg
  if (typeof alg !== 'string' || !algorithms.has(alg)) throw new TokenAlgorithmNotAllowed('"alg" not allowed')
  if ('crit' in header) throw new TokenMalformed('"crit" header: no JWS extension is understood')
  if ('b64' in header) throw new TokenMalformed('"b64" header: unencoded payloads are refused')
  if (!typMatches(header.typ, typ)) throw new TokenTypeInvalid('"typ" check failed')
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new TokenMalformed('"kid" is not a string')
  return { alg, kid: header.kid as string | undefined }
}
