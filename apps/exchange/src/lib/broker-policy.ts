import { z } from 'zod'
import { aclSchema } from '@mqtt-oidc/core'
import type { Acl, Store } from '@mqtt-oidc/core'

/**
 * What a broker decides about exchanged tokens.
 * Stored beside the broker record: core's Broker has no policy column yet, so
 * policies live in the store's generic record table under POLICY_MODEL
 * (never expiring) until core grows one.
 */
export interface BrokerPolicy {
  /** `claim`: the MQTT client id comes from the issuer's client id claim; `generated`: a new ULID per exchange, returned as `client_id`. */
  readonly clientIdMode: 'claim' | 'generated'
  /** First template whose `when` matches the subject gives the ACL; none matches → the broker's ACL. */
  readonly aclTemplates: readonly AclTemplate[]
  /** Longest lifetime of an exchanged token for this broker, seconds; null = the exchange's maximum only. */
  readonly maxLifetime: number | null
  /** Exchanges per subject (issuer + sub) per window; null = unlimited. */
  readonly rateLimit: { readonly requests: number; readonly windowSeconds: number } | null
  /** Claim shape for the broker software: `default`, `emqx` or `rabbitmq`. */
  readonly profile: 'default' | 'emqx' | 'rabbitmq'
  /** Issuers whose subject tokens this broker accepts; empty = every trusted issuer. */
  readonly allowedIssuers: readonly string[]
  /** Signing algorithm of its tokens: EdDSA, ES256, RS256 (JWKS), or HS256 (a per-broker secret shown once). */
  readonly alg: 'EdDSA' | 'ES256' | 'RS256' | 'HS256'
  /** `rabbitmq` profile: the token's `aud` and scope prefix (RabbitMQ's `auth_oauth2.resource_server_id`). Default (absent): the broker id. */
  readonly resourceServerId?: string | undefined
}

export interface AclTemplate {
  /** Matches when the subject is in `group`, and/or claim `claim` equals (or lists) `value`. Empty = always. */
  readonly when: { readonly group?: string | undefined; readonly claim?: string | undefined; readonly value?: string | undefined }
  readonly acl: Acl
}

export const DEFAULT_BROKER_POLICY: BrokerPolicy = Object.freeze({
  clientIdMode: 'claim', aclTemplates: [], maxLifetime: null, rateLimit: null, profile: 'default', allowedIssuers: [], alg: 'EdDSA',
})

export const POLICY_MODEL = 'MqttOidcBrokerPolicy'

const templateSchema = z.object({
  when: z.object({ group: z.string().min(1).optional(), claim: z.string().min(1).optional(), value: z.string().min(1).optional() })
    .strict().refine((w) => (w.claim === undefined) === (w.value === undefined), 'claim and value go together'),
  acl: aclSchema,
}).strict()

/** The policy fields an admin may set (all optional: PATCH merges them into the current policy). */
export const policyPatchSchema = z.object({
  clientIdMode: z.enum(['claim', 'generated']).optional(),
  aclTemplates: z.array(templateSchema).max(64).optional(),
  maxLifetime: z.number().int().positive().nullable().optional(),
  rateLimit: z.object({ requests: z.number().int().min(1), windowSeconds: z.number().int().min(1).max(86400) }).strict().nullable().optional(),
  profile: z.enum(['default', 'emqx', 'rabbitmq']).optional(),
  allowedIssuers: z.array(z.string().url()).max(32).optional(),
  alg: z.enum(['EdDSA', 'ES256', 'RS256', 'HS256']).optional(),
  // RabbitMQ scopes are `<id>.<permission>:...`: no spaces, dots would blur the prefix, so a plain token
  resourceServerId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, _ and - only').nullable().optional(),
}).strict()

export type PolicyPatch = z.output<typeof policyPatchSchema>

/** The broker's policy (defaults when none was stored). */
export async function getBrokerPolicy(store: Store, broker: string): Promise<BrokerPolicy> {
  const stored = await store.oidc.find(POLICY_MODEL, broker)
  return stored ? { ...DEFAULT_BROKER_POLICY, ...(stored as Partial<BrokerPolicy>) } : DEFAULT_BROKER_POLICY
}

/**
 * Merges `patch` into the stored policy and saves it; returns the result.
 * Switching to the `rabbitmq` profile without naming an alg selects RS256
 * (what RabbitMQ deployments and Azure-style verifiers expect).
 */
export async function saveBrokerPolicy(store: Store, broker: string, patch: PolicyPatch): Promise<BrokerPolicy> {
  const current = await getBrokerPolicy(store, broker)
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
  const profileAlg = patch.profile === 'rabbitmq' && patch.alg === undefined && current.profile !== 'rabbitmq' ? { alg: 'RS256' as const } : {}
  // resourceServerId null clears it (absent = the broker id)
  const { resourceServerId, ...merged } = { ...current, ...profileAlg, ...defined } as BrokerPolicy & { resourceServerId?: string | null }
  const next: BrokerPolicy = { ...merged, ...(typeof resourceServerId === 'string' ? { resourceServerId } : {}) }
  await store.oidc.upsert(POLICY_MODEL, broker, { ...next }, 0)
  return next
}

export async function deleteBrokerPolicy(store: Store, broker: string): Promise<void> {
  await store.oidc.destroy(POLICY_MODEL, broker)
}

/** The ACL for a subject: the first matching template's, else `fallback`. */
export function selectAcl(policy: BrokerPolicy, fallback: Acl, subject: { groups: readonly string[]; claims: Record<string, unknown> }): Acl {
  const match = policy.aclTemplates.find(({ when }) => {
    if (when.group !== undefined && !subject.groups.includes(when.group)) return false
    if (when.claim !== undefined) {
      const value = subject.claims[when.claim]
      const values = Array.isArray(value) ? value : [value]
      if (!values.some((v) => String(v) === when.value)) return false
    }
    return true
  })
  return match?.acl ?? fallback
}
