import { z } from 'zod'
import type { Acl } from './acl.js'
import { isValidTopicFilter } from './topic.js'
import { TokenClaimsInvalid } from './errors.js'

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

const filter = z.string().refine(isValidTopicFilter, { message: 'not a valid MQTT topic filter' })

export const aclSchema = z.object({
  pub: z.array(filter).max(256),
  sub: z.array(filter).max(256),
}).strict()

/** Broker id: what `aud` holds; lowercase letters, digits and dashes. */
export const brokerIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a broker id is 1-63 lowercase letters, digits or dashes, starting with a letter or digit')

/** The claims of a broker token, validated (docs/architecture.md, "The broker token", says what each means). */
export const brokerTokenClaimsSchema = z.object({
  iss: z.string().min(1),
  aud: z.string().min(1),
  sub: z.string().min(1).max(256),
  username: z.string().min(1).max(256).optional(),
  jti: z.string().min(1).max(128),
  iat: z.number().int(),
  nbf: z.number().int().optional(),
  exp: z.number().int().optional(),
  acl: aclSchema.optional(),
  topicAcl: z.literal('#').optional(),
}).passthrough()

export type BrokerTokenClaims = z.infer<typeof brokerTokenClaimsSchema>

/** Validates a decoded payload as broker-token claims; throws `TokenClaimsInvalid`. */
export function parseBrokerTokenClaims(payload: unknown): BrokerTokenClaims {
  const parsed = brokerTokenClaimsSchema.safeParse(payload)
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new TokenClaimsInvalid(`broker token claims invalid: ${where}`)
  }
  return parsed.data
}

/** Validates an ACL object; throws `TokenClaimsInvalid` naming each bad filter. */
export function parseAcl(value: unknown): Acl {
  const parsed = aclSchema.safeParse(value)
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new TokenClaimsInvalid(`acl invalid: ${where}`)
  }
  return parsed.data
}
