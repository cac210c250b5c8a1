import type { OAuthClientView } from '@mqtt-oidc/core'
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

export interface IdpAdminClient {
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
 * A client for the IdP's admin API (`/admin/clients`): OAuth clients
 * registered at the IdP. It authenticates like `createAdminClient`, with an
 * admin access token whose resource is the IdP itself.
 *
 * @example
 * const idp = createIdpAdminClient({ dataDir: './.data' })
 * const { client_secret } = await idp.createClient({ client_id: 'dashboard', redirect_uris: ['https://dash.example/cb'] })
 */
export function createIdpAdminClient(options: CreateAdminClientOptions): IdpAdminClient {
  const creds: AdminCredentials = options.adminCredentials ?? readAdminCredentials(options.dataDir)
  const issuer = parseSecureUrl(creds.issuer, 'issuer URL')
  const fetchFrom = options.fetchFrom?.issuer
  const base = fetchFrom === undefined ? issuer : parseFetchFrom(fetchFrom, issuer, 'issuer fetch-from URL')
  const call = createAdminApiCall(base, createAdminBearer(creds, creds.issuer.replace(/\/+$/, ''), fetchFrom))
  const c = (id: string): string => `/admin/clients/${encodeURIComponent(id)}`
  return {
    listClients: async () => {
      const list = await call('GET', '/admin/clients')
      if (!Array.isArray(list)) throw new InvalidResponse('admin API returned no clients list')
      return list as OAuthClientRecord[]
    },
    getClient: async (id) => (await call('GET', c(id))) as OAuthClientRecord,
    createClient: async (input) => (await call('POST', '/admin/clients', input)) as OAuthClientRecord,
    updateClient: async (id, input) => (await call('PATCH', c(id), input)) as OAuthClientRecord,
    rotateClientSecret: async (id) => (await call('POST', `${c(id)}/secret`)) as { client_id: string; client_secret: string },
    deleteClient: async (id) => {
      await call('DELETE', c(id))
    },
    createRegistrationToken: async (options = {}) =>
      (await call('POST', '/admin/registration-tokens', options.expiresIn === undefined ? {} : { expires_in: options.expiresIn })) as { initial_access_token: string; expires_in: number },
  }
}
