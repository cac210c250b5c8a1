import type { KeyObject } from 'node:crypto'

/** A protected JWS header that passed `decodeJws`'s checks. */
export interface JwsHeader {
  readonly alg: string
  readonly kid?: string
  readonly typ?: string
  readonly [name: string]: unknown
}

/** A JWT claims set (a JSON object). */
export type JwtPayload = Record<string, unknown>

/** Log levels this package reports at; apps map them onto their logger. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** Optional log callback; `fields` never carry a token or key material. */
export type LogFn = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void

/**
 * Where verification keys come from (a remote JWKS cache, a local JWKS).
 * Keys are node:crypto public KeyObjects imported once, never per token.
 */
export interface KeySource {
  /**
   * The hot path: the keys that may verify a JWS with this `kid` (any kid
   * when the token has none) and `alg`, when fresh keys hold some; else
   * undefined (then call `keysFor`). Never fetches.
   */
  lookup(kid: string | undefined, alg: string): readonly KeyObject[] | undefined
  /** The same, fetching when the keys held cannot answer; rejects with `KeysUnavailable`. */
  keysFor(kid: string | undefined, alg: string): Promise<readonly KeyObject[]>
  /** Whose keys these are, for messages ("the exchange"). */
  readonly label: string
}

/** A key ready to sign, imported once. */
export interface SigningKey {
  readonly kid: string
  /** 'EdDSA', 'ES256', 'RS256', 'PS256', 'HS256', ... */
  readonly alg: string
  /** A private KeyObject (asymmetric algs) or a secret KeyObject (HS*). */
  readonly key: KeyObject
}

/** What `verifyJwt` resolves with. */
export interface VerifiedJwt {
  readonly header: JwsHeader
  readonly payload: JwtPayload
  /** The key that verified the signature (a cache of verified tokens checks it is still held). */
  readonly key: KeyObject
}

/** A public JWK as published in a JWKS. */
export interface PublicJwk {
  readonly kty: string
  readonly kid: string
  readonly alg: string
  readonly use: 'sig'
  readonly [member: string]: unknown
}
