import type { ClientMetadata } from 'oidc-provider'
import { hashClientSecret } from './client-secret.js'
import { ADMIN_CLIENT_ID, CLI_CLIENT_ID, CONSOLE_CALLBACK_PATH, CONSOLE_CLIENT_ID } from './constants.js'

/**
 * The static clients. The CLI is a public native app: device flow, and auth
 * code + PKCE on a loopback redirect (any port, RFC 8252 §7.3). The admin
 * client is confidential and only gets client_credentials tokens for the
 * exchange and the IdP's own admin API. The console (when given) is the
 * exchange's web console: confidential, since its server keeps the secret and
 * the tokens (a browser never sees them), with the code flow and PKCE on its
 * one redirect URI, and refresh tokens for its server-side session. Like
 * every client, each is given to oidc-provider with its secret hashed
 * (client-secret.ts).
 */
export function staticClients(admin: { clientSecret: string }, console?: { clientSecret: string; exchangeUrl: string }): ClientMetadata[] {
  const exchange = console?.exchangeUrl.replace(/\/+$/, '')
  const consoleClient: ClientMetadata[] =
    console && exchange
      ? [
          {
            client_id: CONSOLE_CLIENT_ID,
            client_name: 'mqtt-oidc console',
            application_type: 'web',
            client_secret: hashClientSecret(console.clientSecret),
            token_endpoint_auth_method: 'client_secret_basic',
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            redirect_uris: [`${exchange}${CONSOLE_CALLBACK_PATH}`],
            post_logout_redirect_uris: [`${exchange}/console/signed-out`],
            scope: 'openid',
          },
        ]
      : []
  return [
    ...consoleClient,
    {
      client_id: CLI_CLIENT_ID,
      client_name: 'mqtt-oidc CLI',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      scope: 'openid mqtt offline_access groups',
    },
    {
      client_id: ADMIN_CLIENT_ID,
      client_name: 'mqtt-oidc admin',
      client_secret: hashClientSecret(admin.clientSecret),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ]
}
