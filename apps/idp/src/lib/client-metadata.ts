import type { OAuthClient } from '@mqtt-oidc/core'
import type { ClientMetadata } from 'oidc-provider'

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
    ...(client.idTokenSignedResponseAlg === null ? {} : { id_token_signed_response_alg: client.idTokenSignedResponseAlg as ClientMetadata['id_token_signed_response_alg'] }),
  }
}
