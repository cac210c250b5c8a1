import type { Acl } from './acl.js'

/**
 * The one Store interface (types only: @mqtt-oidc/store implements it). SQLite
 * is the embedded default (createSqliteStore); PostgreSQL (createPostgresStore) has the same contract.
 * All times are Unix epoch seconds. All methods are async so a networked
 * store fits the same contract.
 */
export interface Store {
  readonly oidc: OidcRecordStore
  readonly accounts: AccountStore
  readonly brokers: BrokerStore
  readonly credentials: CredentialStore
  readonly revocations: RevocationStore
  readonly keys: SigningKeyStore
  /** Who owns each MQTT client id: one account or subject per id. */
  readonly clientIds: ClientIdRegistry
  /** Per-account "tokens issued before this are void" times (set by a disable). */
  readonly cutoffs: AccountCutoffStore
  /** OAuth clients registered at the IdP (besides its built-in ones). */
  readonly oauthClients: OAuthClientStore
  /** The live MQTT sessions broker nodes report (what the console shows). */
  readonly sessions: SessionReportStore
  /**
   * Runs `fn` holding the lock `name`, exclusive among every process on this
   * store (PostgreSQL: an advisory lock; the embedded SQLite store, which one
   * process serves: within this process). For short read-modify-write
   * sequences that instances sharing the store must not interleave.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Resolves once the database has answered a trivial query; rejects when it cannot (readiness checks). */
  ping(): Promise<void>
  /** Closes the underlying database. */
  close(): Promise<void>
}

/** oidc-provider's adapter contract, keyed by model name (Session, Grant, DeviceCode, ...). */
export interface OidcRecordStore {
  upsert(model: string, id: string, payload: OidcPayload, expiresIn: number): Promise<void>
  find(model: string, id: string): Promise<OidcPayload | undefined>
  findByUserCode(model: string, userCode: string): Promise<OidcPayload | undefined>
  findByUid(model: string, uid: string): Promise<OidcPayload | undefined>
  /** Marks the record consumed (sets payload.consumed = now). */
  consume(model: string, id: string): Promise<void>
  destroy(model: string, id: string): Promise<void>
  revokeByGrantId(model: string, grantId: string): Promise<void>
  /**
   * Deletes every record (of any model) whose payload's `accountId` is
   * `accountId`: its sessions, grants, codes and tokens. Returns how many.
   */
  destroyByAccount(accountId: string): Promise<number>
  /** Deletes records whose expiry is before `now`; returns how many. */
  prune(now: number): Promise<number>
}
export type OidcPayload = Record<string, unknown>

export interface Account {
  /** Stable account id (the ID token's `sub`). */
  readonly id: string
  readonly username: string
  /** scrypt hash in the PHC-like form `scrypt$N$r$p$salt$hash` (base64url). */
  readonly passwordHash: string
  /** MQTT client ids this account may use; the first is the default. */
  readonly clientIds: readonly string[]
  readonly groups: readonly string[]
  readonly disabled: boolean
  readonly createdAt: number
  /**
   * How sign-ins without a `clientid` parameter pick the MQTT client id:
   * `per-login` (default) gives each grant (each device's sign-in) its own,
   * `shared` gives every sign-in the first one. Absent = `per-login`; stores
   * always return it.
   */
  readonly clientIdMode?: ClientIdMode
}

/** See `Account.clientIdMode`. */
export type ClientIdMode = 'shared' | 'per-login'
export const CLIENT_ID_MODES: readonly ClientIdMode[] = ['per-login', 'shared']

export interface AccountStore {
  /**
   * Creates the account and, in the same transaction, makes it the owner of
   * its `clientIds` (source `configured`). Throws `Conflict` when the username
   * is taken, `ClientIdTaken` when one of the ids is held by anyone else
   * (then nothing is written).
   */
  create(account: Account): Promise<void>
  findById(id: string): Promise<Account | undefined>
  findByUsername(username: string): Promise<Account | undefined>
  list(): Promise<Account[]>
  /**
   * Throws `NotFound` when there is no such account. A new `clientIds` list
   * is claimed and released in the same transaction: `ClientIdTaken` (and
   * nothing written) when an added id is held by anyone else; a removed id
   * that was in conflict goes to the one account still listing it, if one.
   */
  update(id: string, patch: Partial<Omit<Account, 'id' | 'createdAt'>>): Promise<Account>
  /**
   * Removes the account and, in the same transaction, releases the client ids
   * it owns (a conflicted one goes to the one account still listing it, as in
   * `update`). Throws `NotFound` when there is no such account. Its cutoff
   * (see CutoffStore) stays, so ID tokens issued before stay refused.
   */
  delete(id: string): Promise<void>
}

/** Who may use an MQTT client id. */
export type ClientIdOwner =
  /** An account of the IdP keeping its accounts in this store. */
  | { readonly kind: 'account'; readonly accountId: string }
  /** A subject (`sub`) of another trusted issuer, as the exchange saw it. */
  | { readonly kind: 'subject'; readonly issuer: string; readonly subject: string }

/**
 * How an id is held: `configured` (in an account's `clientIds`), `lease` (a
 * per-login `<first id>-<random>` id, while its grant lives), `exchange`
 * (claimed by the first exchange of a subject of another issuer), or
 * `conflict` (listed by several accounts before ownership was recorded:
 * nobody may use it until an admin removes it from all accounts but one).
 */
export type ClientIdSource = 'configured' | 'lease' | 'exchange' | 'conflict'

export interface ClientIdHolding {
  readonly clientId: string
  /** undefined for a `conflict`. */
  readonly owner: ClientIdOwner | undefined
  readonly source: ClientIdSource
  /** When a lease lapses (null = held until released). */
  readonly expiresAt: number | null
  readonly createdAt: number
}

/**
 * One sign-in's per-login MQTT client id: the grant (one device's sign-in at
 * the IdP; its refreshes keep it) and the id its tokens carry.
 */
export interface ClientIdLease {
  /** The IdP's grant id. */
  readonly grantId: string
  readonly accountId: string
  /** The id the grant's ID tokens carry. */
  readonly clientId: string
  /** The configured id it comes from: the id itself, or the base of a derived `<base>-<suffix>` id (held as a `lease`). */
  readonly base: string
  /** When the grant expires (null = it does not); a lapsed lease reads as absent. */
  readonly expiresAt: number | null
}

export interface ClientIdRegistry {
  /** Who holds `clientId` at `now`; a lapsed lease reads as absent. */
  holder(clientId: string, now: number): Promise<ClientIdHolding | undefined>
  /** Every id `owner` holds at `now`, in the order they were taken. */
  heldBy(owner: ClientIdOwner, now: number): Promise<ClientIdHolding[]>
  /**
   * Takes `clientId` for `owner` unless someone else holds it (a lapsed lease
   * is free). Idempotent for the same owner: its holding is kept, a lease's
   * `expiresAt` raised (null = never lapses). Resolves with the holding in
   * force afterwards, the caller's or another's: compare its owner.
   */
  claim(clientId: string, owner: ClientIdOwner, how: { readonly source: 'lease' | 'exchange'; readonly expiresAt: number | null; readonly now: number }): Promise<ClientIdHolding>
  /** Lets `owner`'s `lease` or `exchange` holding of `clientId` go (`configured` ids go with the account's list). */
  release(clientId: string, owner: ClientIdOwner): Promise<void>
  /** The ids in `conflict`, each with the accounts that list it. */
  conflicts(): Promise<Array<{ readonly clientId: string; readonly accountIds: string[] }>>
  /** The per-login leases of `accountId` that have not lapsed at `now`, ordered by grant id. */
  leasesOf(accountId: string, now: number): Promise<ClientIdLease[]>
  /** Records the lease of `lease.grantId` (replacing one it had). */
  recordLease(lease: ClientIdLease): Promise<void>
  /**
   * Ends the lease of `grantId` (its grant is gone) and, in the same
   * transaction, lets go of its derived id: the account's `lease` holding of
   * it. A configured id stays the account's.
   */
  endLease(grantId: string): Promise<void>
  /** Drops lapsed `lease` holdings and lapsed per-login leases; returns how many. */
  prune(now: number): Promise<number>
}

/** Tokens of `accountId` issued before `notBefore` are void (a disable sets it). */
export interface AccountCutoff {
  readonly accountId: string
  /** Epoch seconds: a token whose `iat` is earlier is refused. */
  readonly notBefore: number
  /** Store-wide, strictly increasing per change: a follower's cursor. */
  readonly revision: number
}

export interface AccountCutoffStore {
  /** Voids the account's tokens issued before `notBefore` (an earlier value never lowers a later one). */
  set(accountId: string, notBefore: number): Promise<AccountCutoff>
  get(accountId: string): Promise<AccountCutoff | undefined>
  /** Cutoffs set after `revision`, ascending, at most `limit` (default 1000). */
  since(revision: number, limit?: number): Promise<AccountCutoff[]>
}

export interface Broker {
  /** The broker id: the `aud` of its tokens. */
  readonly id: string
  /** Default token lifetime in seconds; null = no broker default. */
  readonly expiration: number | null
  /** ACL template for tokens from the exchange (placeholders allowed). */
  readonly acl: Acl
  /** Where clients connect (e.g. mqtt://localhost:1883); informational. */
  readonly url: string | null
  /** What the exchange decides about this broker's tokens; DEFAULT_BROKER_POLICY until an admin sets one. */
  readonly policy: BrokerPolicy
  readonly createdAt: number
  readonly updatedAt: number
}

/** A broker to create: without a policy it gets DEFAULT_BROKER_POLICY. */
export type NewBroker = Omit<Broker, 'policy'> & { readonly policy?: BrokerPolicy | undefined }

/** What a broker decides about exchanged tokens. */
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
  /** `rabbitmq` profile: the token's `aud` and scope prefix (RabbitMQ's `auth_oauth2.resource_server_id`). Absent: the broker id. */
  readonly resourceServerId?: string | undefined
}

export interface AclTemplate {
  /** Matches when the subject is in `group`, and/or claim `claim` equals (or lists) `value`. Empty = always. */
  readonly when: { readonly group?: string | undefined; readonly claim?: string | undefined; readonly value?: string | undefined }
  readonly acl: Acl
}

/** The policy of a broker nobody set one for: client ids from the claim, the broker's ACL, EdDSA, no limits of its own. */
export const DEFAULT_BROKER_POLICY: BrokerPolicy = Object.freeze({
  clientIdMode: 'claim', aclTemplates: Object.freeze([]), maxLifetime: null, rateLimit: null, profile: 'default', allowedIssuers: Object.freeze([]), alg: 'EdDSA',
})

/** A broker's revocation-feed credential as the store keeps it: never the secret, only its digest. */
export interface FeedCredentialRecord {
  /** SHA-256 of the secret, lowercase hex. */
  readonly sha256: string
  readonly issuedAt: number
}

export interface BrokerStore {
  /** Throws `Conflict` when the id is taken. */
  create(broker: NewBroker): Promise<void>
  get(id: string): Promise<Broker | undefined>
  /** Every broker with its policy, ordered by id (one query). */
  list(): Promise<Broker[]>
  /** Throws `NotFound`. A `policy` in the patch replaces the whole policy. */
  update(id: string, patch: Partial<Omit<Broker, 'id' | 'createdAt'>>): Promise<Broker>
  /**
   * Makes `credential` the broker's only revocation-feed credential (the
   * previous one stops at once). Throws `NotFound` when there is no such
   * broker. It goes with the broker: a broker deleted and created again
   * under the same id has none.
   */
  setFeedCredential(id: string, credential: FeedCredentialRecord): Promise<void>
  /** The broker's feed credential; undefined when it has none or does not exist. */
  feedCredential(id: string): Promise<FeedCredentialRecord | undefined>
  /**
   * Throws `NotFound`. Deletes the broker in one transaction: first every
   * credential of it that is live at `now` (not expired, not revoked) is
   * revoked, as one change that followers see; then the broker record and its
   * credential records go. Its revocations (until their tokens expire), its
   * revocation events and its revision counter stay: a broker created again
   * under the same id continues the revision (a follower's cursor never runs
   * ahead of it) and still refuses every token revoked before, and a token
   * issued for the deleted broker can never be unrevoked.
   */
  delete(id: string, now: number): Promise<RevocationChange>
}

/** A record of an issued broker token (never the token itself). */
export interface Credential {
  readonly jti: string
  readonly broker: string
  /** The MQTT client id (`sub`). */
  readonly clientId: string
  readonly username: string | null
  readonly issuedAt: number
  /** null = no exp. */
  readonly expiresAt: number | null
  /** 'admin' (issued through the admin API) or 'exchange' (RFC 8693). */
  readonly source: 'admin' | 'exchange'
  /** Who caused the issuance (admin `sub` or the subject token's `sub`). */
  readonly issuedBy: string
}

export interface CredentialStore {
  /**
   * Records all or none (one transaction). Throws `Conflict` on a duplicate
   * jti, `NotFound` when a credential's broker does not exist (or was deleted
   * meanwhile: then its tokens must not be handed out).
   */
  insertMany(credentials: readonly Credential[]): Promise<void>
  get(broker: string, jti: string): Promise<Credential | undefined>
  /** How many credentials of `broker` (of `source`, when given) are live at `now`: not expired and not revoked. */
  countLive(broker: string, now: number, source?: Credential['source']): Promise<number>
  /**
   * When the `n`-th soonest-expiring of those live credentials expires (n from
   * 1): the time from which at least `n` of them will have gone. null when
   * fewer than `n` of them ever expire.
   */
  nthLiveExpiry(broker: string, now: number, n: number, source?: Credential['source']): Promise<number | null>
  /** Drops the records of credentials whose token expired before `before` (never those without expiry); returns how many. */
  prune(before: number): Promise<number>
  /**
   * Exchanged credentials (`source` exchange) of the subject `issuedBy`,
   * issued before `issuedBefore` and not expired at `now`, on every broker.
   */
  liveIssuedTo(issuedBy: string, issuedBefore: number, now: number): Promise<Credential[]>
  /**
   * The credential records of `broker` that match every filter given, newest
   * first (by `issuedAt`, then `jti` descending), at most `limit`, each with
   * its revocation time (null = not revoked).
   */
  search(broker: string, query: CredentialQuery): Promise<CredentialRecord[]>
}

/** Filters of `CredentialStore.search`; each one left out matches everything. */
export interface CredentialQuery {
  /** Exactly this client id. */
  readonly clientId?: string | undefined
  /** Exactly this jti. */
  readonly jti?: string | undefined
  /** A part of the client id or of the jti (case-sensitive). */
  readonly contains?: string | undefined
  readonly source?: Credential['source'] | undefined
  /** Issued at or after this time. */
  readonly issuedFrom?: number | undefined
  /** Issued before this time. */
  readonly issuedUntil?: number | undefined
  /** Expiring at or after this time; a credential without expiry always matches. */
  readonly expiresFrom?: number | undefined
  /** Expiring before this time; a credential without expiry never matches. */
  readonly expiresUntil?: number | undefined
  /** true: revoked ones only; false: unrevoked ones only. */
  readonly revoked?: boolean | undefined
  /** The next page: records after this one in the order above (the last record of the previous page). */
  readonly after?: { readonly issuedAt: number; readonly jti: string } | undefined
  /** 1 or more. */
  readonly limit: number
}

/** A credential record with its revocation state. */
export interface CredentialRecord extends Credential {
  /** When it was revoked; null = not revoked. */
  readonly revokedAt: number | null
}

export interface Revocation {
  readonly broker: string
  readonly jti: string
  readonly revokedAt: number
  /** When the revoked token expires (null = never); after that the entry may be pruned. */
  readonly expiresAt: number | null
}

export interface RevocationEvent {
  /** Per-broker, strictly increasing. */
  readonly revision: number
  readonly broker: string
  readonly jti: string
  readonly action: 'revoke' | 'unrevoke'
  readonly expiresAt: number | null
  readonly at: number
}

export interface RevocationChange {
  /** The broker's revision after the change. */
  readonly revision: number
  /** The jtis whose state changed (already-revoked ones are left out). */
  readonly changed: string[]
}

export interface RevocationStore {
  /**
   * Revokes `jtis` durably (committed before it resolves). Idempotent per jti.
   * Throws `NotFound` (naming the jtis) when any jti was never issued for this
   * broker; then nothing is revoked.
   */
  revoke(broker: string, jtis: readonly string[], now: number): Promise<RevocationChange>
  /** Unrevokes; jtis that are not revoked are ignored. */
  unrevoke(broker: string, jtis: readonly string[], now: number): Promise<RevocationChange>
  list(broker: string): Promise<Revocation[]>
  isRevoked(broker: string, jti: string): Promise<boolean>
  /** The broker's current revision (0 before any change). */
  revision(broker: string): Promise<number>
  /** Events with revision > `since`, ascending, at most `limit`. */
  eventsSince(broker: string, since: number, limit?: number): Promise<RevocationEvent[]>
  /**
   * Drops revocations whose token has expired before `now`, and the events
   * about such tokens; returns how many revocations. The revision never goes
   * back; a follower whose cursor predates a pruned event sees a gap in the
   * revisions and reloads the snapshot.
   */
  prune(now: number): Promise<number>
  /**
   * Calls `listener(broker)` after a committed change to that broker's
   * revocations, made through ANY instance sharing this store (PostgreSQL:
   * LISTEN/NOTIFY; SQLite: this process's changes). `'*'` means "anything may
   * have changed" (e.g. after the notification channel reconnected). The
   * revision cursor stays the source of truth: a listener reads
   * `eventsSince(cursor)` once `ready` has resolved (then nothing committed
   * afterwards can be missed).
   */
  watch(listener: (broker: string) => void): RevocationWatch
}

export interface RevocationWatch {
  /** Resolves once changes committed from now on are sure to be reported. */
  readonly ready: Promise<void>
  stop(): void
}

export interface SigningKeyRecord {
  readonly kid: string
  /** 'EdDSA' | 'ES256' | 'RS256' | ... */
  readonly alg: string
  /** Which part signs with it: the IdP or the exchange. */
  readonly owner: 'idp' | 'exchange'
  /** The private key as a JWK (includes the public parts). */
  readonly privateJwk: Record<string, unknown>
  readonly createdAt: number
  /** When it stops signing (null = current). */
  readonly retiredAt: number | null
}

export interface SigningKeyStore {
  add(key: SigningKeyRecord): Promise<void>
  list(owner: SigningKeyRecord['owner']): Promise<SigningKeyRecord[]>
  retire(kid: string, at: number): Promise<void>
  /**
   * Records that `kid` signed a token expiring at `expiresAt` (null: one that
   * never expires). Raises what `lastTokenExpiry` answers and never lowers
   * it, in one statement, so instances recording at once cannot undo each
   * other. Unknown kids are ignored.
   */
  noteTokenExpiry(kid: string, expiresAt: number | null): Promise<void>
  /**
   * When the last token `kid` signed expires, as recorded: epoch seconds,
   * null when one never expires, undefined when nothing was recorded (a key
   * that signed before recording began, or never).
   */
  lastTokenExpiry(kid: string): Promise<number | null | undefined>
}

/** One live MQTT session as the broker node holding it reported it. */
export interface ReportedSession {
  readonly broker: string
  /** The reporting node (one of a clustered broker's instances). */
  readonly node: string
  /** The node's own id for the connection: unique on that node while it lives. */
  readonly connection: string
  readonly clientId: string
  readonly username: string | null
  /** The jti of the token the session authenticated with. */
  readonly jti: string
  /** Epoch seconds. */
  readonly connectedAt: number
  /** When its token expires (null = never). */
  readonly expiresAt: number | null
  /** The client's address as the node saw it, if it knows. */
  readonly remoteAddress: string | null
}

/** What one report of a node says: sessions that started and ended since its previous report. */
export interface SessionReport {
  readonly broker: string
  readonly node: string
  /**
   * The node's report counter: one more than its previous report's, or any
   * value with `reset`. A report out of sequence is not applied (the node
   * then resends all it holds with `reset`).
   */
  readonly seq: number
  /** Forget everything this node reported before this report. */
  readonly reset: boolean
  readonly connected: ReadonlyArray<Omit<ReportedSession, 'broker' | 'node'>>
  /** Connection ids that ended. */
  readonly disconnected: readonly string[]
  /** When the exchange received it, epoch seconds. */
  readonly at: number
}

/** The outcome of `SessionReportStore.apply`: applied, or why nothing was written. */
export type SessionReportOutcome =
  | { readonly applied: true; readonly revision: number; readonly sessions: number }
  | { readonly applied: false; readonly reason: 'out-of-sequence'; readonly expectedSeq: number | null }
  | { readonly applied: false; readonly reason: 'too-many-nodes' | 'too-many-sessions'; readonly limit: number }

/** A broker node as its last report left it. */
export interface ReportingNode {
  readonly broker: string
  readonly node: string
  readonly seq: number
  /** When its last report arrived. */
  readonly reportedAt: number
  /** Sessions it holds. */
  readonly sessions: number
}

/** Filters of `SessionReportStore.list`; each one left out matches everything. */
export interface SessionQuery {
  /** Only sessions of nodes that reported at or after this time (older nodes are taken for gone). */
  readonly freshSince: number
  readonly node?: string | undefined
  readonly clientId?: string | undefined
  readonly jti?: string | undefined
  /** A part of the client id or of the jti (case-sensitive). */
  readonly contains?: string | undefined
  /** 1 or more. */
  readonly limit: number
}

export interface SessionReportStore {
  /**
   * Applies one report in one transaction, all or nothing: out of sequence,
   * a node beyond `maxNodes` of its broker, or more than `maxSessions`
   * sessions of its broker (fresh nodes') afterwards writes nothing. A
   * connected entry whose connection id is held replaces it. An applied
   * report that changed a session bumps the broker's revision and tells watchers.
   */
  apply(report: SessionReport, limits: { readonly maxNodes: number; readonly maxSessions: number; readonly freshSince: number }): Promise<SessionReportOutcome>
  /** The broker's sessions matching `query`, most recently connected first. */
  list(broker: string, query: SessionQuery): Promise<ReportedSession[]>
  /** The broker's nodes that reported at or after `freshSince`, by node id. */
  nodes(broker: string, freshSince: number): Promise<ReportingNode[]>
  /** The broker's session revision: bumped by every report that changed a session (0 before any). */
  revision(broker: string): Promise<number>
  /** Forgets nodes (with their sessions) whose last report is older than `before`; returns how many nodes. */
  prune(before: number): Promise<number>
  /**
   * Calls `listener(broker)` after a committed report changed that broker's
   * sessions, through any instance sharing this store (PostgreSQL:
   * LISTEN/NOTIFY; SQLite: this process); `'*'` means anything may have changed.
   */
  watch(listener: (broker: string) => void): RevocationWatch
}

/** How an OAuth client authenticates at the IdP's token, introspection and revocation endpoints. */
export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post']

/** An OAuth 2.0 / OIDC client registered at the IdP (RFC 7591 metadata names in camelCase). */
export interface OAuthClient {
  /** `client_id`. */
  readonly clientId: string
  /** `client_name`, shown on the consent page. */
  readonly name: string
  /** `native` (RFC 8252: a public app on the user's device) or `web` (a server that keeps a secret). */
  readonly applicationType: 'native' | 'web'
  /** `none` for public clients; confidential ones authenticate with their secret. */
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod
  /**
   * A hash of the client secret (never the secret itself; the IdP shows the
   * secret once, at creation). null for public clients.
   */
  readonly secretHash: string | null
  readonly redirectUris: readonly string[]
  readonly postLogoutRedirectUris: readonly string[]
  /** `grant_types`: authorization_code, refresh_token, the device code grant, client_credentials. */
  readonly grantTypes: readonly string[]
  /** The scopes the client may ask for. */
  readonly scopes: readonly string[]
  /** `id_token_signed_response_alg` (RS256, ES256, EdDSA); null = the IdP's default, RS256. */
  readonly idTokenSignedResponseAlg: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

export interface OAuthClientStore {
  /** Throws `Conflict` when the client id is taken. */
  create(client: OAuthClient): Promise<void>
  get(clientId: string): Promise<OAuthClient | undefined>
  /** Ordered by client id. */
  list(): Promise<OAuthClient[]>
  /** Throws `NotFound`. */
  update(clientId: string, patch: Partial<Omit<OAuthClient, 'clientId' | 'createdAt'>>): Promise<OAuthClient>
  /** Throws `NotFound`. */
  delete(clientId: string): Promise<void>
}
