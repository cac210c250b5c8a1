/** The public client of the `mqtt-oidc` CLI (device flow, auth code + PKCE). */
export const CLI_CLIENT_ID = 'mqtt-oidc-cli'

/** The confidential client of the admin CLI (client_credentials → JWT access token for the exchange). */
export const ADMIN_CLIENT_ID = 'mqtt-oidc-admin'

/** Adds the `groups` claim (the account's groups, for ACL policy in the exchange). */
export const GROUPS_SCOPE = 'groups'

/** Scopes of the ID token; `mqtt` adds the `clientid` and `username` claims, `groups` the `groups` claim. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'mqtt', GROUPS_SCOPE] as const

/**
 * The exchange's web console (its server side is a confidential client: the
 * authorization code flow with PKCE, redirecting to `<exchange>/console/callback`).
 */
export const CONSOLE_CLIENT_ID = 'mqtt-oidc-console'

/** Where the console receives the authorization response, under the exchange URL. */
export const CONSOLE_CALLBACK_PATH = '/console/callback'

/** The group whose members the IdP gives the admin scope (and so the console) by default. */
export const DEFAULT_ADMIN_GROUP = 'mqtt-oidc-admins'
