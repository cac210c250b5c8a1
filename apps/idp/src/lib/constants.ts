/** The public client of the `mqtt-oidc` CLI (device flow, auth code + PKCE). */
export const CLI_CLIENT_ID = 'mqtt-oidc-cli'

/** The confidential client of the admin CLI (client_credentials → JWT access token for the exchange). */
export const ADMIN_CLIENT_ID = 'mqtt-oidc-admin'

/** Scopes of the ID token; `mqtt` adds the `clientid` and `username` claims. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'mqtt'] as const
