import { ADMIN_SCOPE, MQTT_SCOPE, type Store } from '@mqtt-oidc/core'
import { errors, type Configuration, type JWK, type KoaContextWithOIDC } from 'oidc-provider'
import { staticClients } from './clients.js'
import { buildInteractionPolicy, CLIENTID_PARAM, validateClientIdParam } from './clientid-selection.js'
import { ADMIN_CLIENT_ID, CONSOLE_CLIENT_ID, GROUPS_SCOPE, OIDC_SCOPES } from './constants.js'
import { createFindAccount } from './find-account.js'
import { createOidcAdapter } from './oidc-adapter.js'
import { withOfflineAccessConsent } from './offline-access-consent.js'
import { REGISTRATION_POLICY, registrationPolicy } from './registration-policy.js'
import { createDeviceFlowSources, renderLoggedOut, renderLogout, renderProviderError } from './provider-pages.js'

/** How clients authenticate at the token, introspection and revocation endpoints. */
export const CLIENT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const

/** Where people enter device codes (the device flow's `verification_uri`). */
export const CODE_VERIFICATION_PATH = '/device'

/** Lifetimes in seconds. */
export interface IdpTtl {
  /** ID tokens. Default 3600. */
  readonly idToken: number
  /** Access tokens for userinfo (device / auth code flows). Default 3600. */
  readonly accessToken: number
  /** The admin client's JWT access tokens for the exchange. Default 600. */
  readonly adminAccessToken: number
  /** Refresh tokens (rotated on use). Default 14 days. */
  readonly refreshToken: number
  /** Device codes (how long a user has to approve). Default 600. */
  readonly deviceCode: number
  /** Authorization codes. Default 60. */
  readonly authorizationCode: number
  /** Browser sessions at the IdP. Default 14 days. */
  readonly session: number
  /** Grants (remembered consent). Default 14 days. */
  readonly grant: number
  /** A login/consent interaction in progress. Default 3600. */
  readonly interaction: number
}

export const DEFAULT_TTL: IdpTtl = Object.freeze({
  idToken: 3600,
  accessToken: 3600,
  adminAccessToken: 600,
  refreshToken: 14 * 24 * 3600,
  deviceCode: 600,
  authorizationCode: 60,
  session: 14 * 24 * 3600,
  grant: 14 * 24 * 3600,
  interaction: 3600,
})

export interface ProviderConfigurationInput {
  readonly store: Store
  readonly exchangeUrl: string
  readonly adminClientSecret: string
  readonly cookieKeys: readonly string[]
  readonly jwks: readonly JWK[]
  readonly ttl: IdpTtl
  /** RFC 7591 registration at /reg, with an initial access token from the admin API. */
  readonly dynamicRegistration: boolean
  /** The exchange's console as a built-in client (its secret); undefined: no console client. */
  readonly consoleClientSecret?: string | undefined
  /** Accounts in this group get the admin scope for the exchange through the console. */
  readonly adminGroup: string
}

/**
 * The whole oidc-provider configuration in one place. Every default that
 * oidc-provider asks deployments to change is set here, so it never falls
 * back to development behaviour (dev interactions, dev keys, memory adapter).
 */
export function buildProviderConfiguration(input: ProviderConfigurationInput): Configuration {
  const { exchangeUrl, ttl } = input
  const findAccount = createFindAccount(input.store)
  return {
    adapter: createOidcAdapter(input.store),
    jwks: { keys: [...input.jwks] },
    clients: staticClients(
      { clientSecret: input.adminClientSecret },
      input.consoleClientSecret === undefined ? undefined : { clientSecret: input.consoleClientSecret, exchangeUrl },
    ),
    findAccount,
    // Authorization code only: no implicit or hybrid responses.
    responseTypes: ['code'],
    scopes: [...OIDC_SCOPES],
    claims: { openid: ['sub'], [MQTT_SCOPE]: ['clientid', 'username'], [GROUPS_SCOPE]: ['groups'] },
    extraParams: { [CLIENTID_PARAM]: validateClientIdParam },
    // Public clients (none); confidential ones with their secret in the Basic header or the form.
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    discovery: {
      claim_types_supported: ['normal'],
      // oidc-provider authenticates clients at introspection and revocation exactly as at the
      // token endpoint; RFC 8414 §2 reads a missing list as client_secret_basic only.
      introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    },
    // Scope-requested claims (clientid, username) go into the ID token itself:
    // the exchange reads them from there.
    conformIdTokenClaims: false,
    cookies: { keys: [...input.cookieKeys] },
    pkce: { required: () => true },
    clientBasedCORS: () => false,
    // The console's server keeps its session alive with refresh tokens bound to the IdP session
    // (no offline_access: signing out at the IdP ends them).
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || client.clientId === CONSOLE_CLIENT_ID),
    // A person's access token for the exchange names them, so its audit log can.
    extraTokenClaims: async (_ctx, token) => personClaims(input.store, (token as { accountId?: string }).accountId),
    // Public clients cannot keep a refresh token secret: every use rotates it.
    rotateRefreshToken: true,
    ttl: {
      IdToken: ttl.idToken,
      AccessToken: ttl.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.adminAccessToken,
      RefreshToken: ttl.refreshToken,
      DeviceCode: ttl.deviceCode,
      AuthorizationCode: ttl.authorizationCode,
      Session: ttl.session,
      Grant: ttl.grant,
      Interaction: ttl.interaction,
    },
    routes: { code_verification: CODE_VERIFICATION_PATH },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: withOfflineAccessConsent(buildInteractionPolicy()) },
    renderError: async (ctx, out) => renderProviderError(ctx, out),
    features: {
      devInteractions: { enabled: false },
      // Not used by our clients: off, so they are neither advertised nor attack surface.
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      // RFC 8628 §6.1: 12 characters of BCDFGHJKLMNPQRSTVWXZ (no vowels, so no
      // words; 20^12 = 4.1e15 codes, enough that the wrong-code budgets can be
      // generous: docs/security.md) shown as XXXX-XXXX-XXXX. oidc-provider
      // uppercases the entry and drops everything but letters and digits.
      deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****-****', ...createDeviceFlowSources(findAccount) },
      clientCredentials: { enabled: true },
      // RFC 7591, off unless configured: only with an initial access token made through the
      // admin API, whose policy applies the admin API's rules. No RFC 7592 management: the
      // admin API manages registered clients (and the stored secret is a hash, not readable back).
      registration: {
        enabled: input.dynamicRegistration,
        initialAccessToken: true,
        issueRegistrationAccessToken: false,
        policies: { [REGISTRATION_POLICY]: registrationPolicy },
      },
      introspection: {
        enabled: true,
        // Public clients may only introspect their own tokens.
        allowedPolicy: async (_ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => renderLogout(ctx, form),
        postLogoutSuccessSource: async (ctx) => renderLoggedOut(ctx),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => false,
        // The resource servers, for the admin client only: the exchange's admin
        // API and this IdP's own (/admin, resource = the issuer). Their tokens
        // are JWTs (typ at+jwt) verified with our JWKS, each for one audience.
        // The console, for people: the exchange's admin API only, and its admin scope only for
        // accounts in the admin group, checked whenever a token is issued (also on every refresh).
        getResourceServerInfo: async (ctx, resourceIndicator, client) => {
          const audience = adminResourceAudience(resourceIndicator, exchangeUrl, ctx.oidc.issuer)
          const person = client.clientId === CONSOLE_CLIENT_ID && audience === exchangeUrl
          if (audience === undefined || (client.clientId !== ADMIN_CLIENT_ID && !person)) {
            throw new errors.InvalidTarget()
          }
          return {
            scope: person ? await adminScopeFor(input.store, signedIn(ctx), input.adminGroup) : ADMIN_SCOPE,
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttl.adminAccessToken,
            jwt: { sign: { alg: 'RS256' } },
          }
        },
      },
    },
  }
}

/**
 * The admin scope a person may get: all of it for a member of `adminGroup`,
 * none for anyone else. Before sign-in (no account yet) the scope is on
 * offer, so the request is understood; every token is issued for a known account.
 */
async function adminScopeFor(store: Store, accountId: string | undefined, adminGroup: string): Promise<string> {
  if (accountId === undefined) return ADMIN_SCOPE
  const account = await store.accounts.findById(accountId)
  return account && !account.disabled && account.groups.includes(adminGroup) ? ADMIN_SCOPE : ''
}

/**
 * The account a request is for: the token's (at the token endpoint), else the
 * browser session's (at the authorization endpoint, where resources are
 * resolved before the account is loaded).
 */
function signedIn(ctx: KoaContextWithOIDC): string | undefined {
  return ctx.oidc.account?.accountId ?? (ctx.oidc.session as { accountId?: string } | undefined)?.accountId
}

/** `username` in a person's JWT access token (not in a client's own, client_credentials, token). */
async function personClaims(store: Store, accountId: string | undefined): Promise<Record<string, string> | undefined> {
  if (accountId === undefined) return undefined
  const account = await store.accounts.findById(accountId)
  return account ? { username: account.username } : undefined
}

/** The audience of an admin access token for `resource`, if it names one of our admin APIs. */
function adminResourceAudience(resource: string, exchangeUrl: string, issuer: string): string | undefined {
  if (resource === exchangeUrl) return exchangeUrl
  return resource === issuer || resource === `${issuer}/` ? issuer : undefined
}
