import { InvalidRequest } from '@mqtt-oidc/core'
import { createRemoteJwks } from '@mqtt-oidc/jose'
import type { LogFn, RemoteJwks } from '@mqtt-oidc/jose'
import { discoverJwksUri } from './discover-jwks-uri.js'

/**
 * Where a claim is: its name at the top level of the token (`email`,
 * `https://example.com/groups`), or an RFC 6901 JSON pointer into nested
 * claims, which starts with `/` (`/realm_access/roles`).
 */
export type ClaimReference = string

/** An OIDC issuer whose tokens may be exchanged (every default documented). */
export interface TrustedIssuerOptions {
  /** Issuer URL (`iss`). */
  readonly issuer: string
  /** JWKS URL. Default: `jwks_uri` of the issuer's discovery document. */
  readonly jwksUri?: string | undefined
  /** OAuth client ids whose tokens may be exchanged: `aud` of ID tokens, `client_id`/`azp` of access tokens. Default ['mqtt-oidc-cli']. */
  readonly clientIds?: readonly string[] | undefined
  /** Claim that gives the MQTT client id (`sub` to derive it from the subject). Default 'clientid'. */
  readonly clientIdClaim?: ClaimReference | undefined
  /** Put before that claim's value, so client ids from different issuers cannot collide (e.g. `kc-`). Default ''. */
  readonly clientIdPrefix?: string | undefined
  /** Claim that gives the MQTT username; a list means the first of them the token has. Default 'username'. */
  readonly usernameClaim?: ClaimReference | readonly ClaimReference[] | undefined
  /** Claim that lists the subject's groups (for ACL templates): an array, or a space/comma-separated string. Default 'groups'. */
  readonly groupsClaim?: ClaimReference | undefined
  /** Least time between JWKS refetches caused by an unknown kid, ms. Default 30000. */
  readonly jwksCooldownMs?: number | undefined
}

/** What the exchange takes from a verified token's claims. */
export interface MappedClaims {
  /** undefined when the claim is absent or not a usable string. */
  readonly clientId: string | undefined
  readonly username: string | undefined
  readonly groups: readonly string[]
}

export interface TrustedIssuer {
  readonly issuer: string
  readonly clientIds: readonly string[]
  /** The client id claim as configured (for messages). */
  readonly clientIdClaim: ClaimReference
  /** The username claim(s) as configured (for messages). */
  readonly usernameClaim: string
  /** The issuer's JWKS cache (the JOSE core's): close() stops its refresh timer. */
  readonly keys: RemoteJwks
  /** The issuer's claim mapping applied to a verified payload; a malformed username claim is an InvalidRequest. */
  mapClaims(payload: Readonly<Record<string, unknown>>): MappedClaims
}

export const DEFAULT_CLIENT_IDS: readonly string[] = ['mqtt-oidc-cli']

/** Longest claim value taken as a client id or username. */
const MAX_CLAIM_LENGTH = 256

/** Discovery and JWKS fetch timeout, ms. */
const FETCH_TIMEOUT_MS = 5000

/**
 * Fills in defaults and creates one JWKS cache per issuer (found by discovery unless `jwksUri` is given).
 * Throws TypeError for a malformed claim reference.
 */
export function createTrustedIssuer(options: TrustedIssuerOptions, log?: LogFn): TrustedIssuer {
  const clientIdClaim = options.clientIdClaim ?? 'clientid'
  const prefix = options.clientIdPrefix ?? ''
  const usernameClaims = typeof options.usernameClaim === 'string' ? [options.usernameClaim] : [...(options.usernameClaim ?? ['username'])]
  const groupsClaim = options.groupsClaim ?? 'groups'
  const readers = new Map([clientIdClaim, groupsClaim, ...usernameClaims].map((ref) => [ref, claimReader(ref)]))
  const read = (payload: Readonly<Record<string, unknown>>, ref: ClaimReference): unknown => readers.get(ref)?.(payload)
  return {
    issuer: options.issuer,
    clientIds: options.clientIds ?? DEFAULT_CLIENT_IDS,
    clientIdClaim,
    usernameClaim: usernameClaims.join(' or '),
    keys: createRemoteJwks({
      jwksUri: options.jwksUri ?? (() => discoverJwksUri(options.issuer, FETCH_TIMEOUT_MS)),
      label: 'the identity provider',
      cooldownMs: options.jwksCooldownMs,
      timeoutMs: FETCH_TIMEOUT_MS,
      log: log && ((level, msg, fields) => log(level, msg, { issuer: options.issuer, ...fields })),
    }),
    mapClaims(payload) {
      const clientId = shortString(read(payload, clientIdClaim))
      return {
        clientId: clientId === undefined ? undefined : `${prefix}${clientId}`,
        username: firstUsername(usernameClaims.map((ref) => [ref, read(payload, ref)] as const)),
        groups: groups(read(payload, groupsClaim)),
      }
    },
  }
}

/**
 * A function reading the claim `ref` names from a payload. A JSON pointer
 * (RFC 6901) is parsed once; a malformed one throws TypeError.
 */
export function claimReader(ref: ClaimReference): (payload: Readonly<Record<string, unknown>>) => unknown {
  if (!ref.startsWith('/')) return (payload) => payload[ref]
  const path = ref
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new TypeError(`"${ref}" is not a JSON pointer (RFC 6901): "~" must be followed by 0 or 1`)
      return token.replace(/~1/g, '/').replace(/~0/g, '~')
    })
  return (payload) => {
    let value: unknown = payload
    for (const key of path) {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined
      value = (value as Record<string, unknown>)[key]
    }
    return value
  }
}

function shortString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH ? value : undefined
}

/** The first username claim the token has; one that is there but malformed is refused, not skipped. */
function firstUsername(candidates: ReadonlyArray<readonly [ClaimReference, unknown]>): string | undefined {
  for (const [ref, value] of candidates) {
    if (value === undefined) continue
    const username = shortString(value)
    if (username === undefined) throw new InvalidRequest(`subject_token has an invalid ${ref} claim`)
    return username
  }
  return undefined
}

function groups(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[ ,]+/).filter(Boolean)
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string') : []
}
