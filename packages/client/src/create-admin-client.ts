import type { Acl, CredentialView } from '@mqtt-oidc/core'
import { InvalidResponse } from './errors.js'
import { createAdminApiCall } from './lib/admin-api-call.js'
import { createAdminBearer } from './lib/admin-bearer.js'
import { readAdminCredentials } from './read-admin-credentials.js'
import { exchangeBase } from './lib/exchange-base.js'

/** The confidential admin client (`<dataDir>/admin-client.json`). */
export interface AdminCredentials {
  /** IdP issuer URL. */
  readonly issuer: string
  /** Exchange base URL: the admin API's base and the `resource` of the access token. */
  readonly exchange: string
  readonly clientId: string
  readonly clientSecret: string
}

/**
 * Where requests for the public issuer and exchange URLs are sent instead,
 * when those are not reachable from here (a container on a compose network
 * reaching `http://localhost:4000` as `http://idp:4000`). The public URLs stay
 * what is checked and asked for. See discoverIssuer's `fetchFrom`.
 */
export interface FetchFrom {
  readonly issuer?: string | undefined
  readonly exchange?: string | undefined
}

export type CreateAdminClientOptions = (
  | { readonly dataDir: string; readonly adminCredentials?: undefined }
  | { readonly adminCredentials: AdminCredentials; readonly dataDir?: undefined }
) & { readonly fetchFrom?: FetchFrom | undefined }

/** An expiration as the admin API takes it: `"7d"`, seconds, or -1 (none). */
export type Expiration = string | number

export interface BrokerInput {
  readonly expiration?: Expiration | undefined
  readonly acl?: Acl | undefined
  readonly url?: string | undefined
  /** Policy fields to set (PATCH merges them into the broker's current policy). */
  readonly policy?: BrokerPolicyInput | undefined
}

/** An ACL template: the first whose `when` matches the subject (group and/or claim value; empty = always) gives its ACL. */
export interface AclTemplateInput {
  readonly when: { readonly group?: string; readonly claim?: string; readonly value?: string }
  readonly acl: Acl
}

/** What a broker decides about the tokens it gets (the exchange's broker policy). */
export interface BrokerPolicyInput {
  /** `claim`: client id from the ID token's claim; `generated`: a new ULID per exchange. */
  readonly clientIdMode?: 'claim' | 'generated' | undefined
  readonly aclTemplates?: readonly AclTemplateInput[] | undefined
  /** Longest lifetime of an exchanged token, seconds; null = the exchange's maximum only. */
  readonly maxLifetime?: number | null | undefined
  /** Exchanges per subject per window; null = unlimited. */
  readonly rateLimit?: { readonly requests: number; readonly windowSeconds: number } | null | undefined
  readonly profile?: 'default' | 'emqx' | 'rabbitmq' | undefined
  /** Issuers whose subject tokens the broker accepts; empty = every trusted issuer. */
  readonly allowedIssuers?: readonly string[] | undefined
  readonly alg?: 'EdDSA' | 'ES256' | 'RS256' | 'HS256' | undefined
  /** `rabbitmq` profile: the tokens' `aud` and scope prefix; null = the broker id. */
  readonly resourceServerId?: string | null | undefined
}

/** A broker as the admin API returns it (fields beyond `id` are the exchange's). */
export interface BrokerRecord {
  readonly id: string
  readonly [field: string]: unknown
}

export interface IssueCredentialsInput {
  /** How many credentials, 1..100 (the exchange's default: 1). */
  readonly number?: number | undefined
  /** Client ids to issue for (instead of generated ones, `cred-<lower-case ULID>`). */
  readonly clientIds?: readonly string[] | undefined
  readonly expiration?: Expiration | undefined
  readonly acl?: Acl | undefined
  readonly username?: string | undefined
  /** When the credentials become valid (`nbf`): epoch seconds, an ISO 8601 time, or a duration from now ("10m"). */
  readonly notBefore?: number | string | undefined
  /**
   * Issue even for client ids an account or subject owns (such a credential
   * takes over the owner's MQTT session). Default false: refused with 409.
   */
  readonly allowOwnedClientIds?: boolean | undefined
}

export interface Revocation {
  readonly jti: string
  readonly revokedAt: number
  readonly expiresAt: number | null
}

/** Filters of `listCredentials`; every one optional, all must match. Times are epoch seconds or ISO 8601. */
export interface CredentialFilter {
  readonly clientId?: string | undefined
  readonly jti?: string | undefined
  /** A part of the client id or of the jti (case-sensitive). */
  readonly search?: string | undefined
  readonly source?: 'admin' | 'exchange' | undefined
  readonly revoked?: boolean | undefined
  readonly expired?: boolean | undefined
  readonly issuedAfter?: number | string | undefined
  readonly issuedBefore?: number | string | undefined
  readonly expiresAfter?: number | string | undefined
  readonly expiresBefore?: number | string | undefined
  /** Records per page, 1..1000 (the exchange's default: 100). */
  readonly limit?: number | undefined
  /** The previous page's `next`. */
  readonly cursor?: string | undefined
}

/** One page of credential records, newest first; `next` continues it (null on the last page). */
export interface CredentialPage {
  readonly credentials: CredentialView[]
  readonly next: string | null
}

/** What deleting a broker did: how many live credentials of it were revoked (they stay refused until they expire). */
export interface BrokerDeletion {
  readonly id: string
  readonly deleted: true
  readonly revoked: number
}

/** One of the exchange's broker-token signing keys: public information and dates only. */
export interface ExchangeKeyRecord {
  readonly kid: string
  readonly alg: string
  /** When it signs (or started signing), epoch seconds. */
  readonly signsFrom: number
  /** When it stopped (or stops) signing; null while it is the current key. */
  readonly retiredAt: number | null
  /** Whether its public key is in the JWKS now. */
  readonly published: boolean
}

/** What a rotation of the exchange's key did. */
export interface ExchangeKeyRotation {
  /** The new key, published now. */
  readonly kid: string
  readonly alg: string
  /** When it starts signing (and the current key retires), epoch seconds. */
  readonly activatesAt: number
  /** The key it replaces, if any. */
  readonly retiring: string | undefined
}

export interface AdminClient {
  createBroker(id: string, input?: BrokerInput): Promise<BrokerRecord>
  listBrokers(): Promise<BrokerRecord[]>
  getBroker(id: string): Promise<BrokerRecord>
  updateBroker(id: string, input: BrokerInput): Promise<BrokerRecord>
  /**
   * Deletes a broker. One with live credentials (not expired, not revoked)
   * needs `force`: deleting it revokes them all. Without it the exchange
   * refuses (`AdminApiError`, status 409) and nothing changes.
   */
  deleteBroker(id: string, options?: { readonly force?: boolean | undefined }): Promise<BrokerDeletion>
  /** `{ "<clientid>": "<token>" }`, the Cloudflare Pub/Sub shape. */
  issueCredentials(id: string, input?: IssueCredentialsInput): Promise<Record<string, string>>
  revoke(id: string, jtis: readonly string[]): Promise<{ revision: number; revoked: string[] }>
  /**
   * Revokes every live credential (not expired, not revoked) of these client
   * ids, and `jtis` if given, in one change; `revoked` lists the jtis it
   * revoked (empty when none was live). A client id the broker has no
   * credential record of, or an unknown jti, is an `AdminApiError` (404),
   * and then nothing is revoked.
   */
  revokeClientIds(id: string, clientIds: readonly string[], jtis?: readonly string[]): Promise<{ revision: number; revoked: string[] }>
  /** The broker's credential records, newest first, one page at a time (records of tokens expired over an hour ago are pruned). */
  listCredentials(id: string, filter?: CredentialFilter): Promise<CredentialPage>
  unrevoke(id: string, jtis: readonly string[]): Promise<{ revision: number; unrevoked: string[] }>
  listRevocations(id: string): Promise<Revocation[]>
  /** Issues the broker's revocation-feed credential (the previous one stops working); shown once. */
  issueFeedCredential(id: string): Promise<{ broker: string; feedCredential: string }>
  /** The exchange's broker-token signing keys (unrestricted admins only). */
  listKeys(): Promise<ExchangeKeyRecord[]>
  /**
   * Publishes a new signing key now; it signs after `leadTime` seconds
   * (default: the exchange's, 10 minutes), when the current key retires.
   * `alg`: EdDSA (the default), ES256 or RS256.
   */
  rotateKey(input?: { readonly alg?: 'EdDSA' | 'ES256' | 'RS256' | undefined; readonly leadTime?: number | undefined }): Promise<ExchangeKeyRotation>
}

/**
 * A client for the exchange's admin API. It authenticates to the IdP as the
 * confidential admin client (client_credentials, `client_secret_basic`,
 * scope `mqtt-oidc:admin`, resource = the exchange) and sends the access
 * token as a Bearer token, fetching a new one shortly before it expires or
 * once after a 401. Error responses become `AdminApiError` with the API's
 * `error`, `error_description` and HTTP status.
 *
 * Credentials come from `adminCredentials`, or from `<dataDir>/admin-client.json`
 * (read now; `AdminCredentialsMissing` when absent).
 *
 * @example
 * const admin = createAdminClient({ dataDir: './.data' })
 * const creds = await admin.issueCredentials('demo', { number: 5, expiration: '48h' })
 */
export function createAdminClient(options: CreateAdminClientOptions): AdminClient {
  const creds = options.adminCredentials ?? readAdminCredentials(options.dataDir)
  const base = exchangeBase(creds.exchange, options.fetchFrom?.exchange)
  const call = createAdminApiCall(base, createAdminBearer(creds, creds.exchange, options.fetchFrom?.issuer))
  const b = (id: string): string => `/admin/brokers/${encodeURIComponent(id)}`

  return {
    createBroker: async (id, input = {}) => (await call('POST', '/admin/brokers', { id, ...input })) as BrokerRecord,
    listBrokers: async () => unwrapList(await call('GET', '/admin/brokers'), 'brokers') as BrokerRecord[],
    getBroker: async (id) => (await call('GET', b(id))) as BrokerRecord,
    updateBroker: async (id, input) => (await call('PATCH', b(id), input)) as BrokerRecord,
    deleteBroker: async (id, options = {}) => (await call('DELETE', b(id), undefined, options.force ? { force: 'true' } : {})) as BrokerDeletion,
    issueCredentials: async (id, input = {}) => (await call('POST', `${b(id)}/credentials`, input)) as Record<string, string>,
    revoke: async (id, jtis) => (await call('POST', `${b(id)}/revocations`, { jtis })) as { revision: number; revoked: string[] },
    revokeClientIds: async (id, clientIds, jtis) => (await call('POST', `${b(id)}/revocations`, { clientIds, ...(jtis ? { jtis } : {}) })) as { revision: number; revoked: string[] },
    listCredentials: async (id, filter = {}) => (await call('GET', `${b(id)}/credentials`, undefined, credentialQuery(filter))) as CredentialPage,
    unrevoke: async (id, jtis) => (await call('DELETE', `${b(id)}/revocations`, { jtis })) as { revision: number; unrevoked: string[] },
    listRevocations: async (id) => unwrapList(await call('GET', `${b(id)}/revocations`), 'revocations') as Revocation[],
    issueFeedCredential: async (id) => (await call('POST', `${b(id)}/feed-credential`)) as { broker: string; feedCredential: string },
    listKeys: async () => unwrapList(await call('GET', '/admin/keys'), 'keys') as ExchangeKeyRecord[],
    rotateKey: async (input = {}) => (await call('POST', '/admin/keys/rotate', input)) as ExchangeKeyRotation,
  }
}

/** Lists are bare arrays; an object wrapping one under `key` is accepted too. */
function unwrapList(json: unknown, key: string): unknown[] {
  if (Array.isArray(json)) return json
  const inner = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined
  if (Array.isArray(inner)) return inner
  throw new InvalidResponse(`admin API returned no ${key} list`)
}

function credentialQuery(filter: CredentialFilter): Record<string, string> {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]))
}
