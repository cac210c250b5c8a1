import type { OAuthClient } from '@mqtt-oidc/core'
import type { ClientMetadata } from 'oidc-provider'
import { hashClientSecret } from './client-secret.js'

/** The RFC 8628 device code grant type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/**
 * A stored client as oidc-provider metadata (RFC 7591 names). oidc-provider
 * validates it (redirect URI rules per application type, RFC 8252 for
 * native ones) whenever it loads the client.
 */
export function clientMetadata(client: OAuthClient): ClientMetadata {
  return {
    client_id: client.clientId,
    client_name: client.name,
    application_type: client.applicationType,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    // The hash: oidc-provider's secret comparison is replaced (client-secret.ts).
    ...(client.secretHash === null ? {} : { client_secret: client.secretHash }),
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    grant_types: [...client.grantTypes],
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: client.scopes.join(' '),
    // Validated against IDP_SIGNING_ALGS at registration; oidc-provider checks it again on load.
    ...(client.idTokenSignedResponseAlg === null
      ? {}
      : { id_token_signed_response_alg: client.idTokenSignedResponseAlg as ClientMetadata['id_token_signed_response_alg'] }),
  }
}

/**
 * The inverse of clientMetadata, for a client oidc-provider registered
 * itself (RFC 7591): its secret becomes a hash, metadata this IdP does not
 * keep (logo_uri, contacts, ...) is dropped, and RFC 7591's defaults fill in
 * what the request left out.
 */
export function clientFromMetadata(clientId: string, metadata: Readonly<Record<string, unknown>>, now: number): OAuthClient {
  const list = (key: string): string[] => (Array.isArray(metadata[key]) ? (metadata[key] as unknown[]).filter((v): v is string => typeof v === 'string') : [])
  const text = (key: string): string | undefined => (typeof metadata[key] === 'string' ? metadata[key] : undefined)
  const secret = text('client_secret')
  return {
    clientId,
    name: text('client_name') ?? clientId,
    applicationType: metadata.application_type === 'native' ? 'native' : 'web',
    tokenEndpointAuthMethod: (text('token_endpoint_auth_method') ?? 'client_secret_basic') as OAuthClient['tokenEndpointAuthMethod'],
    secretHash: secret === undefined ? null : hashClientSecret(secret),
    redirectUris: list('redirect_uris'),
    postLogoutRedirectUris: list('post_logout_redirect_uris'),
    grantTypes: metadata.grant_types === undefined ? ['authorization_code'] : list('grant_types'),
    scopes: (text('scope') ?? '').split(' ').filter(Boolean),
    idTokenSignedResponseAlg: text('id_token_signed_response_alg') ?? null,
    createdAt: typeof metadata.client_id_issued_at === 'number' ? metadata.client_id_issued_at : now,
    updatedAt: now,
  }
}
