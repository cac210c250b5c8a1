import { z } from 'zod'
import type { Acl } from './acl.js'
import { isValidTopicFilter } from './topic.js'
import { TokenClaimsInvalid } from './errors.js'
import { isRecord } from './is-record.js'

/** JOSE header `typ` of broker tokens (RFC 8725 §3.11): never mistaken for an ID or access token. */
export const BROKER_TOKEN_TYP = 'mqtt-broker+jwt'

/** Algorithms a broker token may be signed with (asymmetric); HS256 only for HMAC-only brokers. */
export const BROKER_TOKEN_ALGS = ['EdDSA', 'ES256', 'RS256'] as const
export type BrokerTokenAlg = (typeof BROKER_TOKEN_ALGS)[number]

/** RFC 8693 token type identifiers. */
export const TOKEN_TYPE = Object.freeze({
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
})

/** RFC 8693 grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** Scope carried by access tokens that may use the exchange's admin API. */
export const ADMIN_SCOPE = 'mqtt-oidc:admin'

/** Scope that puts `clientid` and `username` into the ID token. */
export const MQTT_SCOPE = 'mqtt'

/** At most this many topic filters in each list of an `acl` claim. */
export const MAX_ACL_FILTERS = 256

const filter = z.string().refine(isValidTopicFilter, { message: 'not a valid MQTT topic filter' })

export const aclSchema = z.object({
  pub: z.array(filter).max(MAX_ACL_FILTERS),
  sub: z.array(filter).max(MAX_ACL_FILTERS),
}).strict()

/** Broker id: what `aud` holds; lowercase letters, digits and dashes. */
export const brokerIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a broker id is 1-63 lowercase letters, digits or dashes, starting with a letter or digit')

/** The claims of a broker token, validated (docs/architecture.md, "The broker token", says what each means); other claims pass through. */
export interface BrokerTokenClaims {
  readonly iss: string
  readonly aud: string
  /** The MQTT client id, 1-256 characters. */
  readonly sub: string
  readonly username?: string | undefined
  readonly jti: string
  readonly iat: number
  readonly nbf?: number | undefined
  readonly exp?: number | undefined
  readonly acl?: Acl | undefined
  readonly topicAcl?: '#' | undefined
  readonly [claim: string]: unknown
}

/**
 * Validates a decoded payload as broker-token claims and returns it (the
 * same object); throws `TokenClaimsInvalid` naming the claim. Written out
 * rather than as a schema: every CONNECT with a new token runs it, and a
 * schema library's generic walk cost more CPU than the rest of the claim
 * checks together (bench/connect.ts).
 */
export function parseBrokerTokenClaims(payload: unknown): BrokerTokenClaims {
  if (!isRecord(payload)) throw claimsInvalid('(root)', 'not a JSON object')
  const p = payload
  text(p, 'iss', 1, Infinity, true)
  text(p, 'aud', 1, Infinity, true)
  text(p, 'sub', 1, 256, true)
  text(p, 'username', 1, 256, false)
  text(p, 'jti', 1, 128, true)
  integer(p, 'iat', true)
  integer(p, 'nbf', false)
  integer(p, 'exp', false)
  if (p.acl !== undefined) aclProblem(p.acl, 'acl')
  if (p.topicAcl !== undefined && p.topicAcl !== '#') throw claimsInvalid('topicAcl', 'must be "#" when present')
  return p as BrokerTokenClaims
}

function text(p: Record<string, unknown>, claim: string, min: number, max: number, required: boolean): void {
  const v = p[claim]
  if (v === undefined) {
    if (required) throw claimsInvalid(claim, 'is required')
    return
  }
  if (typeof v !== 'string') throw claimsInvalid(claim, 'must be a string')
  if (v.length < min) throw claimsInvalid(claim, 'must not be empty')
  if (v.length > max) throw claimsInvalid(claim, `must be at most ${max} characters`)
}

function integer(p: Record<string, unknown>, claim: string, required: boolean): void {
  const v = p[claim]
  if (v === undefined) {
    if (required) throw claimsInvalid(claim, 'is required')
    return
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw claimsInvalid(claim, 'must be a whole number of seconds')
}

/** Throws `TokenClaimsInvalid` unless `value` is `{pub: string[], sub: string[]}` of valid topic filters, nothing else. */
function aclProblem(value: unknown, claim: string): void {
  if (!isRecord(value)) throw claimsInvalid(claim, 'must be an object with pub and sub lists')
  for (const key in value) if (key !== 'pub' && key !== 'sub') throw claimsInvalid(claim, `has an unknown member ${JSON.stringify(key.slice(0, 64))}`)
  for (const list of ['pub', 'sub'] as const) {
    const filters = value[list]
    if (!Array.isArray(filters)) throw claimsInvalid(`${claim}.${list}`, 'must be a list of topic filters')
    if (filters.length > MAX_ACL_FILTERS) throw claimsInvalid(`${claim}.${list}`, `must hold at most ${MAX_ACL_FILTERS} filters`)
    for (let i = 0; i < filters.length; i++) {
      const f: unknown = filters[i]
      if (typeof f !== 'string' || !isValidTopicFilter(f)) throw claimsInvalid(`${claim}.${list}.${i}`, 'not a valid MQTT topic filter')
    }
  }
}

function claimsInvalid(where: string, problem: string): TokenClaimsInvalid {
  const claim = where.split('.')[0]
  return new TokenClaimsInvalid(`broker token claims invalid: ${where}: ${problem}`, { claim: claim === '(root)' ? undefined : claim, reason: 'invalid' })
}
