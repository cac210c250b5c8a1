import { createIssuerKeys } from './issuer-keys.js'
import type { IssuerKeys } from './issuer-keys.js'

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
  readonly keys: IssuerKeys
}

export const DEFAULT_CLIENT_IDS: readonly string[] = ['mqtt-oidc-cli']

/** Fills in defaults and creates one key cache per issuer. */
export function createTrustedIssuer(options: TrustedIssuerOptions): TrustedIssuer {
  return {
    issuer: options.issuer,
    clientIds: options.clientIds ?? DEFAULT_CLIENT_IDS,
    clientIdClaim: options.clientIdClaim ?? 'clientid',
    usernameClaim: options.usernameClaim ?? 'username',
    groupsClaim: options.groupsClaim ?? 'groups',
    keys: createIssuerKeys({ issuer: options.issuer, jwksUri: options.jwksUri, cooldownMs: options.jwksCooldownMs }),
  }
}
