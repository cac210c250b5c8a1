/** The public client of the `mqtt-oidc` CLI (device flow, auth code + PKCE). */
export const CLI_CLIENT_ID = 'mqtt-oidc-cli'

/** The confidential client of the admin CLI (client_credentials → JWT access token for the exchange). */
export const ADMIN_CLIENT_ID = 'mqtt-oidc-admin'

/** Adds the `groups` claim (the account's groups, for ACL policy in the exchange). */
export const GROUPS_SCOPE = 'groups'

/** Scopes of the ID token; `mqtt` adds the `clientid` and `username` claims, `groups` the `groups` claim. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'mqtt', GROUPS_SCOPE] as const
