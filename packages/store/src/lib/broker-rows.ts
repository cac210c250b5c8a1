import type { Acl } from '@mqtt-oidc/core'
import { DEFAULT_BROKER_POLICY } from '@mqtt-oidc/core'
import type { AclTemplate, Broker, BrokerPolicy, FeedCredentialRecord, NewBroker } from '@mqtt-oidc/core'

/**
 * A `brokers` row (the same columns on SQLite and PostgreSQL). JSON columns
 * arrive as text from SQLite and parsed from PostgreSQL; `J` says which.
 */
export interface BrokerRow<J> {
  id: string
  expiration: number | null
  acl: J
  url: string | null
  created_at: number
  updated_at: number
  client_id_mode: BrokerPolicy['clientIdMode']
  acl_templates: J
  max_lifetime: number | null
  rate_limit_requests: number | null
  rate_limit_window: number | null
  profile: BrokerPolicy['profile']
  allowed_issuers: J
  alg: BrokerPolicy['alg']
  resource_server_id: string | null
  feed_credential_sha256: string | null
  feed_credential_issued_at: number | null
}

/** The columns of a broker record, in the order BROKER_COLUMNS names them, JSON as text. */
export const BROKER_COLUMNS = [
  'id',
  'expiration',
  'acl',
  'url',
  'created_at',
  'updated_at',
  'client_id_mode',
  'acl_templates',
  'max_lifetime',
  'rate_limit_requests',
  'rate_limit_window',
  'profile',
  'allowed_issuers',
  'alg',
  'resource_server_id',
] as const

/** A broker's values for BROKER_COLUMNS (policy defaults filled in). */
export function brokerValues(broker: NewBroker): unknown[] {
  const p = broker.policy ?? DEFAULT_BROKER_POLICY
  return [
    broker.id,
    broker.expiration,
    JSON.stringify(broker.acl),
    broker.url,
    broker.createdAt,
    broker.updatedAt,
    p.clientIdMode,
    JSON.stringify(p.aclTemplates),
    p.maxLifetime,
    p.rateLimit?.requests ?? null,
    p.rateLimit?.windowSeconds ?? null,
    p.profile,
    JSON.stringify(p.allowedIssuers),
    p.alg,
    p.resourceServerId ?? null,
  ]
}

/** A row as a broker record; `json` reads a JSON column. */
export function toBroker<J>(r: BrokerRow<J>, json: (value: J) => unknown): Broker {
  const policy: BrokerPolicy = {
    clientIdMode: r.client_id_mode,
    aclTemplates: json(r.acl_templates) as AclTemplate[],
    maxLifetime: r.max_lifetime,
    rateLimit: r.rate_limit_requests !== null && r.rate_limit_window !== null ? { requests: r.rate_limit_requests, windowSeconds: r.rate_limit_window } : null,
    profile: r.profile,
    allowedIssuers: json(r.allowed_issuers) as string[],
    alg: r.alg,
    ...(r.resource_server_id !== null ? { resourceServerId: r.resource_server_id } : {}),
  }
  return { id: r.id, expiration: r.expiration, acl: json(r.acl) as Acl, url: r.url, policy, createdAt: r.created_at, updatedAt: r.updated_at }
}

/** The row's feed credential, if it has one. */
export function toFeedCredential(r: Pick<BrokerRow<unknown>, 'feed_credential_sha256' | 'feed_credential_issued_at'>): FeedCredentialRecord | undefined {
  return r.feed_credential_sha256 !== null && r.feed_credential_issued_at !== null
    ? { sha256: r.feed_credential_sha256, issuedAt: r.feed_credential_issued_at }
    : undefined
}
