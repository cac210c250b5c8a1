import { z } from 'zod'
import { aclSchema } from '@mqtt-oidc/core'
import type { Acl, BrokerPolicy } from '@mqtt-oidc/core'

// What a broker decides about exchanged tokens is part of its record in the store
// (core's BrokerPolicy); this file holds what the exchange does with it.
export type { AclTemplate, BrokerPolicy } from '@mqtt-oidc/core'
export { DEFAULT_BROKER_POLICY } from '@mqtt-oidc/core'

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

/**
 * `patch` merged into `current`: the policy to store. Switching to the
 * `rabbitmq` profile without naming an alg selects RS256 (what RabbitMQ
 * deployments and Azure-style verifiers expect); a null `resourceServerId`
 * clears it (absent = the broker id).
 */
export function mergeBrokerPolicy(current: BrokerPolicy, patch: PolicyPatch): BrokerPolicy {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
  const profileAlg = patch.profile === 'rabbitmq' && patch.alg === undefined && current.profile !== 'rabbitmq' ? { alg: 'RS256' as const } : {}
  const { resourceServerId, ...merged } = { ...current, ...profileAlg, ...defined } as BrokerPolicy & { resourceServerId?: string | null }
  return { ...merged, ...(typeof resourceServerId === 'string' ? { resourceServerId } : {}) }
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
