import { createRemoteJwks } from '@mqtt-oidc/jose'
import type { LogFn, RemoteJwks } from '@mqtt-oidc/jose'
import { discoverJwksUri } from './discover-jwks-uri.js'

/** An OIDC issuer whose tokens may be exchanged (every default documented). */
export interface TrustedIssuerOptions {
  /** Issuer URL (`iss`). */
  readonly issuer: string
  /** JWKS URL. Default: `jwks_uri` of the issuer's discovery document. */
  readonly jwksUri?: string | undefined
  /** OAuth client ids whose tokens may be exchanged: `aud` of ID tokens, `client_id`/`azp` of access tokens. Default ['mqtt-oidc-cli']. */
  readonly clientIds?: readonly string[] | undefined
  /** Claim that gives the MQTT client id. Default 'clientid'. */
  readonly clientIdClaim?: string | undefined
  /** Claim that gives the MQTT username. Default 'username'. */
  readonly usernameClaim?: string | undefined
  /** Claim that lists the subject's groups (for ACL templates). Default 'groups'. */
  readonly groupsClaim?: string | undefined
  /** Least time between JWKS refetches caused by an unknown kid, ms. Default 30000. */
  readonly jwksCooldownMs?: number | undefined
}

export interface TrustedIssuer {
  readonly issuer: string
  readonly clientIds: readonly string[]
  readonly clientIdClaim: string
  readonly usernameClaim: string
  readonly groupsClaim: string
  /** The issuer's JWKS cache (the JOSE core's): close() stops its refresh timer. */
  readonly keys: RemoteJwks
}

export const DEFAULT_CLIENT_IDS: readonly string[] = ['mqtt-oidc-cli']

/** Discovery and JWKS fetch timeout, ms. */
const FETCH_TIMEOUT_MS = 5000

/** Fills in defaults and creates one JWKS cache per issuer (found by discovery unless `jwksUri` is given). */
export function createTrustedIssuer(options: TrustedIssuerOptions, log?: LogFn): TrustedIssuer {
  return {
    issuer: options.issuer,
    clientIds: options.clientIds ?? DEFAULT_CLIENT_IDS,
    clientIdClaim: options.clientIdClaim ?? 'clientid',
    usernameClaim: options.usernameClaim ?? 'username',
    groupsClaim: options.groupsClaim ?? 'groups',
    keys: createRemoteJwks({
      jwksUri: options.jwksUri ?? (() => discoverJwksUri(options.issuer, FETCH_TIMEOUT_MS)),
      label: 'the identity provider',
      cooldownMs: options.jwksCooldownMs,
      timeoutMs: FETCH_TIMEOUT_MS,
      log: log && ((level, msg, fields) => log(level, msg, { issuer: options.issuer, ...fields })),
    }),
  }
}
