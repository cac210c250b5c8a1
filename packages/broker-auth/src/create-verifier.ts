import { BROKER_TOKEN_ALGS, BROKER_TOKEN_TYP, TokenMalformed, TokenMissing, TokenRevoked, parseBrokerTokenClaims } from '@mqtt-oidc/core'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'
import { createJwtVerifier } from '@mqtt-oidc/jose'
import type { VerifiedJwt } from '@mqtt-oidc/jose'
import { createKeyStore } from './create-key-store.js'
import type { KeyStore } from './create-key-store.js'
import { createVerifiedCache } from './lib/verified-cache.js'
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
  /** Leeway for `exp`, `nbf` and a future `iat`, in seconds. Default 5. */
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
  /**
   * Already-verified tokens remembered, entries: a token is kept from its second CONNECT on, so a
   * client that reconnects again and again skips the signature check. 0 disables. Default 10000.
   */
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
  /**
   * `verify` without a promise when it needs no key fetch (the key store
   * holds the token's key, or the token is refused before any key is
   * needed): the claims, or a thrown refusal. Undefined when only `verify`
   * can answer. The CONNECT hot path: it spares a promise per CONNECT.
   */
  verifyIfKeysHeld(token: string): BrokerTokenClaims | undefined
  /** The key store in use. */
  readonly keys: KeyStore
  /** Stops the key store's refresh timer (when the verifier made it). */
  close(): void
}

/**
 * Creates the broker-side verifier of broker tokens: the JOSE core's
 * verifier (alg allow-list, `typ: mqtt-broker+jwt`, no `crit`/`b64`, key
 * fit, the strict claim rules with `iss` = the exchange and `aud` = this
 * broker) over its remote JWKS cache, then core's broker-token claim schema,
 * with a cache of verified tokens and the revocation check on top.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'http://localhost:4001', audience: 'demo',
 *   jwksUri: 'http://localhost:4001/.well-known/jwks.json', revocations: follower })
 * const claims = await verifier.verify(password)
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const clock = options.now ?? (() => Date.now() / 1000)
  const keys =
    options.keys ??
    createKeyStore({
      jwksUri: options.jwksUri,
      cooldownMs: options.jwksCooldownMs,
      refreshIntervalMs: options.jwksCacheMaxAgeMs,
      maxStaleMs: options.jwksMaxStaleMs,
      timeoutMs: options.jwksTimeoutMs,
      now: options.now ? () => clock() * 1000 : undefined,
      log: options.log,
    })
  const maxTokenLength = options.maxTokenLength ?? 8192
  const jwt = createJwtVerifier(keys, {
    algorithms: options.algorithms ?? BROKER_TOKEN_ALGS,
    typ: BROKER_TOKEN_TYP,
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockTolerance,
    maxTokenLength,
  })
  const cache = createVerifiedCache(options.cacheSize ?? 10_000)

  function notRevoked(claims: BrokerTokenClaims): BrokerTokenClaims {
    if (options.revocations?.has(claims.jti)) throw new TokenRevoked(`jti ${claims.jti} is revoked`)
    return claims
  }

  function verifyIfKeysHeld(token: string): BrokerTokenClaims | undefined {
    if (typeof token !== 'string' || token.length === 0) throw new TokenMissing('no token')
    if (token.length > maxTokenLength) throw new TokenMalformed(`token longer than ${maxTokenLength} characters`)
    const now = clock()
    const hit = cache.get(token)
    if (hit && keys.holds(hit.key)) {
      jwt.checkTimes(hit.claims, now)
      return notRevoked(hit.claims)
    }
    const verified = jwt.verifyIfKeysHeld(token, now)
    return verified && remember(token, verified)
  }

  function remember(token: string, { payload, key }: VerifiedJwt): BrokerTokenClaims {
    const claims = parseBrokerTokenClaims(payload)
    cache.offer(token, { claims, key })
    return notRevoked(claims)
  }

  async function verify(token: string): Promise<BrokerTokenClaims> {
    return verifyIfKeysHeld(token) ?? remember(token, await jwt.verify(token, clock()))
  }

  return { verify, verifyIfKeysHeld, keys, close: () => (options.keys ? undefined : keys.close()) }
}
