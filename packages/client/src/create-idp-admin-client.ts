import type { AccountView, ClientIdConflict, ClientIdMode, OAuthClientView, SigningKeyView } from '@mqtt-oidc/core'
import type { KeyRotation } from '@mqtt-oidc/jose'
import type { AdminCredentials, CreateAdminClientOptions } from './create-admin-client.js'
import { InvalidResponse } from './errors.js'
import { createAdminApiCall } from './lib/admin-api-call.js'
import { createAdminBearer } from './lib/admin-bearer.js'
import { readAdminCredentials } from './read-admin-credentials.js'
import { parseFetchFrom } from './lib/fetch-from.js'
import { parseSecureUrl } from './lib/urls.js'

/** The registration fields of an OAuth client (RFC 7591 names, as the IdP's admin API takes them). */
export interface OAuthClientInput {
  readonly client_name?: string | undefined
  /** `native` (public: device flow, loopback redirects) or `web` (confidential). Default `web`. */
  readonly application_type?: 'native' | 'web' | undefined
  readonly redirect_uris?: readonly string[] | undefined
  readonly post_logout_redirect_uris?: readonly string[] | undefined
  /** authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code. Default by application type. */
  readonly grant_types?: readonly string[] | undefined
  /** Space-separated scopes the client may ask for. Default `openid offline_access mqtt groups`. */
  readonly scope?: string | undefined
  /** `none` (public), `client_secret_basic` or `client_secret_post`. Default: none for native apps, client_secret_basic for web ones. */
  readonly token_endpoint_auth_method?: 'none' | 'client_secret_basic' | 'client_secret_post' | undefined
  /** How its ID tokens are signed: RS256 (the default), ES256 or EdDSA. */
  readonly id_token_signed_response_alg?: 'RS256' | 'ES256' | 'EdDSA' | undefined
}

/** A registered client as the IdP's admin API shows it; `client_secret` only in the answer that made it (register, a client made confidential, a rotation). */
export type OAuthClientRecord = OAuthClientView & { readonly client_secret?: string }

/** A new account: the password goes in the request body only, and the IdP keeps only its scrypt hash. */
export interface AccountInput {
  /** 1-64 letters, digits and `. _ @ -`. */
  readonly username: string
  /** 8-1024 characters. */
  readonly password: string
  /** MQTT client ids it may use, the first the default; each held by nobody else. Default: one made up. */
  readonly clientIds?: readonly string[] | undefined
  /** Its `groups` claim. Default: none. */
  readonly groups?: readonly string[] | undefined
  /** `per-login` (each sign-in its own client id, the default) or `shared` (every sign-in the first). */
  readonly clientIdMode?: ClientIdMode | undefined
}

/** Changes to an account; only the fields given change (lists are replaced). */
export interface AccountChanges {
  readonly clientIds?: readonly string[] | undefined
  readonly groups?: readonly string[] | undefined
  readonly clientIdMode?: ClientIdMode | undefined
  /**
   * true cuts every way in: sign-ins end, exchanges refuse the account's
   * older ID tokens and revoke its live broker credentials (brokers close
   * those sessions). false lets it sign in again.
   */
  readonly disabled?: boolean | undefined
}

export interface IdpAdminClient {
  listAccounts(): Promise<AccountView[]>
  getAccount(username: string): Promise<AccountView>
  createAccount(input: AccountInput): Promise<AccountView>
  updateAccount(username: string, changes: AccountChanges): Promise<AccountView>
  setAccountPassword(username: string, password: string): Promise<void>
  /** Client ids several accounts listed before each id had one owner; nobody gets them until all but one account drop them. */
  listClientIdConflicts(): Promise<ClientIdConflict[]>
  /** The IdP's signing keys: public information and dates only. */
  listKeys(): Promise<SigningKeyView[]>
  /**
   * A new key per algorithm, published now and signing after `leadTime`
   * seconds (default 600), when the current ones retire. Every IdP instance
   * picks it up within a minute.
   */
  rotateKeys(options?: { readonly leadTime?: number | undefined }): Promise<KeyRotation>

  listClients(): Promise<OAuthClientRecord[]>
  getClient(clientId: string): Promise<OAuthClientRecord>
  /** Without `clientId` the IdP makes one up. */
  createClient(input: OAuthClientInput & { readonly client_id?: string | undefined }): Promise<OAuthClientRecord>
  updateClient(clientId: string, input: OAuthClientInput): Promise<OAuthClientRecord>
  /** A new secret for a confidential client; the old one stops working. */
  rotateClientSecret(clientId: string): Promise<{ client_id: string; client_secret: string }>
  deleteClient(clientId: string): Promise<void>
  /**
   * An RFC 7591 initial access token (shown once): with it a client registers
   * itself at the IdP's registration endpoint, under the same rules as
   * createClient, until it expires. Only when the IdP has dynamic registration on.
   */
  createRegistrationToken(options?: { readonly expiresIn?: number | undefined }): Promise<{ initial_access_token: string; expires_in: number }>
}

/**
 * A client for the IdP's admin API: accounts (`/admin/accounts`), signing
 * keys (`/admin/keys`) and OAuth clients (`/admin/clients`). It
 * authenticates like `createAdminClient`, with an admin access token whose
 * resource is the IdP itself.
 *
 * @example
 * const idp = createIdpAdminClient({ dataDir: './.data' })
 * await idp.createAccount({ username: 'alice', password, clientIds: ['gw-17'] })
 * const { client_secret } = await idp.createClient({ client_id: 'dashboard', redirect_uris: ['https://dash.example/cb'] })
 */
export function createIdpAdminClient(options: CreateAdminClientOptions): IdpAdminClient {
  const creds: AdminCredentials = options.adminCredentials ?? readAdminCredentials(options.dataDir)
  const issuer = parseSecureUrl(creds.issuer, 'issuer URL')
  const fetchFrom = options.fetchFrom?.issuer
  const base = fetchFrom === undefined ? issuer : parseFetchFrom(fetchFrom, issuer, 'issuer fetch-from URL')
  const call = createAdminApiCall(base, createAdminBearer(creds, creds.issuer.replace(/\/+$/, ''), fetchFrom))
  const c = (id: string): string => `/admin/clients/${encodeURIComponent(id)}`
  const a = (username: string): string => `/admin/accounts/${encodeURIComponent(username)}`
  const list = async (path: string, what: string): Promise<unknown[]> => {
    const json = await call('GET', path)
    if (!Array.isArray(json)) throw new InvalidResponse(`admin API returned no ${what} list`)
    return json as unknown[]
  }
  return {
    listAccounts: async () => (await list('/admin/accounts', 'accounts')) as AccountView[],
    getAccount: async (username) => (await call('GET', a(username))) as AccountView,
    createAccount: async (input) => (await call('POST', '/admin/accounts', input)) as AccountView,
    updateAccount: async (username, changes) => (await call('PATCH', a(username), changes)) as AccountView,
    setAccountPassword: async (username, password) => {
      await call('PUT', `${a(username)}/password`, { password })
    },
    listClientIdConflicts: async () => (await list('/admin/client-id-conflicts', 'conflicts')) as ClientIdConflict[],
    listKeys: async () => (await list('/admin/keys', 'keys')) as SigningKeyView[],
    rotateKeys: async (options = {}) =>
      (await call('POST', '/admin/keys/rotate', options.leadTime === undefined ? {} : { leadTime: options.leadTime })) as KeyRotation,
    listClients: async () => (await list('/admin/clients', 'clients')) as OAuthClientRecord[],
    getClient: async (id) => (await call('GET', c(id))) as OAuthClientRecord,
    createClient: async (input) => (await call('POST', '/admin/clients', input)) as OAuthClientRecord,
    updateClient: async (id, input) => (await call('PATCH', c(id), input)) as OAuthClientRecord,
    rotateClientSecret: async (id) => (await call('POST', `${c(id)}/secret`)) as { client_id: string; client_secret: string },
    deleteClient: async (id) => {
      await call('DELETE', c(id))
    },
    createRegistrationToken: async (options = {}) =>
      (await call('POST', '/admin/registration-tokens', options.expiresIn === undefined ? {} : { expires_in: options.expiresIn })) as {
        initial_access_token: string
        expires_in: number
      },
  }
}
