import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose'
import {
  BROKER_TOKEN_ALGS,
  BROKER_TOKEN_TYP,
  KeysUnavailable,
  parseBrokerTokenClaims,
  TokenMalformed,
  TokenMissing,
  TokenRevoked,
} from '@mqtt-oidc/core'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'
import { describeError } from './lib/describe-error.js'
import { mapJoseError } from './lib/map-jose-error.js'
import type { LogFn, RevocationChecker } from './types.js'

export interface VerifierOptions {
  /** Expected `iss`: the exchange's issuer URL. Required. */
  issuer: string
  /** Expected `aud`: this broker's id. Required. */
  audience: string
  /** The exchange's JWKS URL; the only source of keys (token `jku`, `x5u`, `jwk` headers are ignored). Required. */
  jwksUri: string | URL
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
  /** How long a fetched JWKS is used before it is fetched again, in ms. Default 600000. */
  jwksCacheMaxAgeMs?: number
  /** JWKS fetch timeout, in ms. Default 5000. */
  jwksTimeoutMs?: number
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
}

/**
 * Creates the broker-side verifier of broker tokens.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'http://localhost:4001', audience: 'demo',
 *   jwksUri: 'http://localhost:4001/.well-known/jwks.json', revocations: follower })
 * const claims = await verifier.verify(password)
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const algorithms = checkAlgorithms(options.algorithms ?? BROKER_TOKEN_ALGS)
  const getKey = createKeyResolver(options)
  const maxTokenLength = options.maxTokenLength ?? 8192
  const base: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms,
    typ: BROKER_TOKEN_TYP,
    clockTolerance: options.clockTolerance ?? 5,
  }

  async function verify(token: string): Promise<BrokerTokenClaims> {
    if (typeof token !== 'string' || token.length === 0) throw new TokenMissing('no token')
    if (token.length > maxTokenLength) throw new TokenMalformed(`token longer than ${maxTokenLength} characters`)
    const verifyOptions = options.now ? { ...base, currentDate: new Date(options.now() * 1000) } : base
    const payload = await verifyJwt(token, getKey, verifyOptions)
    const claims = parseBrokerTokenClaims(payload)
    if (options.revocations?.has(claims.jti)) throw new TokenRevoked(`jti ${claims.jti} is revoked`)
    return claims
  }

  return { verify }
}

function checkAlgorithms(algorithms: readonly string[]): string[] {
  const bad = algorithms.filter((alg) => alg.toLowerCase() === 'none' || alg.startsWith('HS'))
  if (bad.length > 0) throw new TypeError(`algorithms must be asymmetric (JWKS public keys); refused: ${bad.join(', ')}`)
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty')
  return [...algorithms]
}

/** jose's remote JWKS, with fetch failures turned into `KeysUnavailable`. */
function createKeyResolver(options: VerifierOptions): JWTVerifyGetKey {
  const url = new URL(options.jwksUri)
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  })
  return async (header, token) => {
    try {
      return await remote(header, token)
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys ||
        err instanceof errors.JOSENotSupported) throw err
      options.log?.('error', 'JWKS fetch failed', {
        code: 'ERR_KEYS_UNAVAILABLE', jwks_uri: url.href, err: describeError(err),
      })
      throw new KeysUnavailable('verification keys unavailable', { cause: err })
    }
  }
}

/** `jwtVerify`, trying each candidate key when several match (a JWKS without kids). */
async function verifyJwt(token: string, getKey: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, getKey, options)).payload
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw mapJoseError(err)
    for await (const key of err) {
      try {
        return (await jwtVerify(token, key, options)).payload
      } catch (inner) {
        if (inner instanceof errors.JWSSignatureVerificationFailed) continue
        throw mapJoseError(inner)
      }
    }
    throw mapJoseError(new errors.JWSSignatureVerificationFailed())
  }
}
