import { compileHeaderRules } from './lib/compile-rules.js'
import { splitJws } from './lib/split-jws.js'
import type { DecodedJws } from './lib/split-jws.js'

export type { DecodedJws }

export interface DecodeJwsOptions {
  /** Accepted header `alg` values. Required. Asymmetric only: `none` and HS* are a TypeError (every key here is a public key from a JWKS). */
  readonly algorithms: readonly string[]
  /** Accepted header `typ` values, compared case-insensitively with or without `application/` (RFC 8725 §3.11). Default: any. */
  readonly typ?: string | readonly string[] | undefined
  /** Whether a header without `typ` passes when `typ` is given. Default false. */
  readonly allowMissingTyp?: boolean | undefined
  /** Longest token, characters; a longer one is refused before any parsing. Default 16384 (DEFAULT_MAX_TOKEN_LENGTH). */
  readonly maxTokenLength?: number | undefined
  /** How messages name the token ("subject_token", "access token"). Default "token". Messages never quote the token. */
  readonly what?: string | undefined
}

/**
 * Splits a compact JWS and checks its protected header; the signature is
 * NOT verified (use verifyJwt). Refuses, with core's typed errors: not three
 * unpadded base64url segments or an empty signature (TokenMalformed), an
 * `alg` off the caller's list (TokenAlgorithmNotAllowed), `crit` or `b64`
 * (TokenMalformed), a `typ` the caller does not accept (TokenTypeInvalid), a
 * non-string `kid`, a header that is not a UTF-8 JSON object or names a
 * member twice (TokenMalformed). `jku`, `x5u`, `jwk` and `x5c` are ignored.
 *
 * @example const { header, kid } = decodeJws(token, { algorithms: ['RS256', 'EdDSA'], what: 'subject_token' })
 */
export function decodeJws(token: string, options: DecodeJwsOptions): DecodedJws {
  return splitJws(token, compileHeaderRules(options))
}
