import { BROKER_TOKEN_ALGS, BROKER_TOKEN_TYP, TokenMalformed, TokenMissing, TokenRevoked, TokenSignatureInvalid } from '@mqtt-oidc/core'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'
import { createKeyStore } from './create-key-store.js'
import type { KeyStore } from './create-key-store.js'
import { checkClaims, checkTimes } from './lib/check-claims.js'
import { decodeJsonSegment, decodeJws } from './lib/decode-jws.js'
import type { CheckedHeader } from './lib/decode-jws.js'
import { createVerifiedCache } from './lib/verified-cache.js'
import { SUPPORTED_ALGS, verifySignature } from './lib/verify-signature.js'
import type { LogFn, RevocationChecker } from './types.js'

export interface VerifierOptions {
  /** Expected `iss`: the exchange's issuer URL. Required. */
  issuer: string
  /** Expected `aud`: this broker's id. Required. */
  audience: string
  /** The exchange's JWKS URL; the only source of keys (token `jku`, `x5u`, `jwk` headers are ignored). Required unless `keys` is given. */
  jwksUri: string | URL
  /** A key store to share (e.g. with metrics); when given, the `jwks*` options are not used. Default: one made from them. */
  keys?: KeyStore
  /** Allowed header `alg` values. Default `['EdDSA', 'ES256', 'RS256']`; `none` and `HS*` are refused at construction. */
  algorithms?: readonly string[]
  /** Leeway for `exp`/`nbf`, in seconds. Default 5. */
  clockTolerance?: number
  /** Revoked jtis (usually the revocation follower). Default: nothing is revoked. */
  revocations?: RevocationChecker
  /** Current time in epoch seconds. Default: from `Date.now()`. */
  now?: () => number
  /** Minimum time between two JWKS fetches triggered by unknown `kid`s, in ms. Default 30000. */
  jwksCooldownMs?: number
  /** JWKS revalidation interval (a timer; conditional GETs), in ms. Default 60000. */
  jwksCacheMaxAgeMs?: number
  /** How long the last good keys keep working while the JWKS endpoint fails, in ms. Default 3600000. */
  jwksMaxStaleMs?: number
  /** JWKS fetch timeout, in ms. Default 5000. */
  jwksTimeoutMs?: number
  /** Already-verified tokens remembered (reconnect storms skip the signature), entries. 0 disables. Default 10000. */
  cacheSize?: number
  /** Longest token accepted, in characters; longer is `TokenMalformed` without parsing. Default 8192. */
  maxTokenLength?: number
  /** Optional log callback; never receives a token. */
  log?: LogFn
}

export interface Verifier {
  /**
   * Verifies a broker token and resolves with its validated claims; rejects
   * with one of core's typed errors (`TokenExpired`, `TokenAudienceInvalid`,
   * `TokenRevoked`, `KeysUnavailable`, ...).
   */
  verify(token: string): Promise<BrokerTokenClaims>
  /** The key store in use. */
  readonly keys: KeyStore
  /** Stops the key store's refresh timer (when the verifier made it). */
  close(): void
}

/**
 * Creates the broker-side verifier of broker tokens. The signature is checked
 * with node:crypto KeyObjects from our own JWKS cache (`createKeyStore`);
 * header and claim rules follow jose's (alg allow-list, `typ`, no `crit`,
 * iss, single aud, exp/nbf with leeway) plus core's claim schema.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'http://localhost:4001', audience: 'demo',
 *   jwksUri: 'http://localhost:4001/.well-known/jwks.json', revocations: follower })
 * const claims = await verifier.verify(password)
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const algorithms = new Set(checkAlgorithms(options.algorithms ?? BROKER_TOKEN_ALGS))
  const clock = options.now ?? (() => Date.now() / 1000)
  const keys = options.keys ?? createKeyStore({
    jwksUri: options.jwksUri,
    cooldownMs: options.jwksCooldownMs,
    refreshIntervalMs: options.jwksCacheMaxAgeMs,
    maxStaleMs: options.jwksMaxStaleMs,
    timeoutMs: options.jwksTimeoutMs,
    now: options.now ? () => clock() * 1000 : undefined,
    log: options.log,
  })
  const maxTokenLength = options.maxTokenLength ?? 8192
  const rules = { issuer: options.issuer, audience: options.audience, clockTolerance: options.clockTolerance ?? 5 }
  const cache = createVerifiedCache(options.cacheSize ?? 10_000)
  const headers = new Map<string, CheckedHeader>()

  function notRevoked(claims: BrokerTokenClaims): BrokerTokenClaims {
    if (options.revocations?.has(claims.jti)) throw new TokenRevoked(`jti ${claims.jti} is revoked`)
    return claims
  }

  async function verify(token: string): Promise<BrokerTokenClaims> {
    if (typeof token !== 'string' || token.length === 0) throw new TokenMissing('no token')
    if (token.length > maxTokenLength) throw new TokenMalformed(`token longer than ${maxTokenLength} characters`)
    const now = clock()
    const hit = cache.get(token)
    if (hit && keys.holds(hit.key)) {
      checkTimes(hit.claims, now, rules.clockTolerance)
      return notRevoked(hit.claims)
    }
    const jws = decodeJws(token, algorithms, BROKER_TOKEN_TYP, headers)
    const candidates = keys.lookup(jws.kid, jws.alg) ?? await keys.keysFor(jws.kid, jws.alg)
    const key = candidates.find((k) => verifySignature(jws.alg, k, jws.signingInput, jws.signature))
    if (!key) throw new TokenSignatureInvalid(candidates.length > 0 ? 'signature invalid' : 'no key in the JWKS verifies this token')
    const claims = checkClaims(decodeJsonSegment(jws.payloadSegment, 'JWT payload'), rules, now)
    cache.set(token, { claims, key })
    return notRevoked(claims)
  }

  return { verify, keys, close: () => (options.keys ? undefined : keys.close()) }
}

function checkAlgorithms(algorithms: readonly string[]): string[] {
  const bad = algorithms.filter((alg) => alg.toLowerCase() === 'none' || alg.startsWith('HS'))
  if (bad.length > 0) throw new TypeError(`algorithms must be asymmetric (JWKS public keys); refused: ${bad.join(', ')}`)
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty')
  const unknown = algorithms.filter((alg) => !SUPPORTED_ALGS.includes(alg))
  if (unknown.length > 0) throw new TypeError(`unsupported algorithms: ${unknown.join(', ')}`)
  return [...algorithms]
}
