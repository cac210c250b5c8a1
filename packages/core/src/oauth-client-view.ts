import type { TokenEndpointAuthMethod } from './store.js'

/**
 * An OAuth client as the IdP's admin API shows it (`/admin/clients`, RFC 7591
 * metadata names): what the IdP sends and the client library reads. Never
 * its secret or the secret's hash.
 */
export interface OAuthClientView {
  readonly client_id: string
  readonly client_name: string
  readonly application_type: 'native' | 'web'
  readonly token_endpoint_auth_method: TokenEndpointAuthMethod
  readonly redirect_uris: readonly string[]
  readonly post_logout_redirect_uris: readonly string[]
  readonly grant_types: readonly string[]
  readonly response_types: readonly string[]
  /** Space-separated scopes the client may ask for. */
  readonly scope: string
  /** How its ID tokens are signed (OpenID Connect Dynamic Client Registration §2). */
  readonly id_token_signed_response_alg: string
  /** The IdP's own CLI and admin clients: listed, never changed through the API. */
  readonly built_in: boolean
  /** Epoch seconds; null for built-in clients. */
  readonly created_at: number | null
  readonly updated_at: number | null
}
