import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { InvalidRequest, type OAuthClient, type OAuthClientView, type TokenEndpointAuthMethod } from '@mqtt-oidc/core'
import { errors, type ClientMetadata, type Provider } from 'oidc-provider'
import { clientMetadata, DEVICE_CODE_GRANT } from './client-metadata.js'
import { createClientSecret } from './client-secret.js'
import { OIDC_SCOPES } from './constants.js'
import { IDP_SIGNING_ALGS } from './signing-keys.js'

/** oidc-provider's default `id_token_signed_response_alg`. */
const DEFAULT_ID_TOKEN_ALG = 'RS256'

/** Grant types a registered client may have (client_credentials is the admin client's alone). */
export const REGISTRABLE_GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT] as const

/** What a client gets when the request names no scope: everything a sign-in can ask for. */
export const DEFAULT_CLIENT_SCOPE = OIDC_SCOPES.join(' ')

// RFC 3986 unreserved characters: a client id goes into URLs and Basic headers unescaped.
const clientIdSchema = z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'client_id must be 1-128 letters, digits, ".", "_", "~" or "-"')
const uriList = z.array(z.string().min(1).max(2000)).max(50)

const fields = {
  client_name: z.string().trim().min(1).max(200),
  application_type: z.enum(['native', 'web']),
  redirect_uris: uriList,
  post_logout_redirect_uris: uriList,
  grant_types: z.array(z.string()).min(1).max(REGISTRABLE_GRANT_TYPES.length),
  scope: z.string().max(1000),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']),
  id_token_signed_response_alg: z.enum(IDP_SIGNING_ALGS),
}

/** POST /admin/clients (RFC 7591 metadata names). */
export const createClientSchema = z
  .object({ client_id: clientIdSchema.optional(), ...fields })
  .partial({
    client_name: true,
    application_type: true,
    redirect_uris: true,
    post_logout_redirect_uris: true,
    grant_types: true,
    scope: true,
    token_endpoint_auth_method: true,
    id_token_signed_response_alg: true,
  })
  .strict()

/** PATCH /admin/clients/:id: the fields given change. */
export const updateClientSchema = z.object(fields).partial().strict()

export type CreateClientInput = z.output<typeof createClientSchema>
export type UpdateClientInput = z.output<typeof updateClientSchema>

/** A client as the admin API shows it. */
export type ClientView = OAuthClientView

export function clientView(client: OAuthClient): ClientView {
  return {
    client_id: client.clientId,
    client_name: client.name,
    application_type: client.applicationType,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: client.scopes.join(' '),
    id_token_signed_response_alg: client.idTokenSignedResponseAlg ?? DEFAULT_ID_TOKEN_ALG,
    built_in: false,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  }
}

/** A built-in (static) client's metadata as the admin API shows it. */
export function builtInClientView(metadata: ClientMetadata): ClientView {
  const grantTypes = metadata.grant_types ?? []
  return {
    client_id: metadata.client_id,
    client_name: metadata.client_name ?? metadata.client_id,
    application_type: metadata.application_type === 'native' ? 'native' : 'web',
    token_endpoint_auth_method: (metadata.token_endpoint_auth_method ?? 'client_secret_basic') as TokenEndpointAuthMethod,
    redirect_uris: metadata.redirect_uris ?? [],
    post_logout_redirect_uris: metadata.post_logout_redirect_uris ?? [],
    grant_types: grantTypes,
    response_types: metadata.response_types ?? [],
    scope: metadata.scope ?? '',
    id_token_signed_response_alg: metadata.id_token_signed_response_alg ?? DEFAULT_ID_TOKEN_ALG,
    built_in: true,
    created_at: null,
    updated_at: null,
  }
}

/**
 * A new client from an admin's request, with the defaults a user of this
 * kind of software expects: a native app is public (RFC 8252 §8.5: an app on
 * people's devices cannot keep a secret) and signs in with the device flow,
 * plus the code flow when it has redirect URIs; a web app is confidential
 * (client_secret_basic) with the code flow. `secret` is the one time the
 * secret exists outside the client: show it, never store it.
 */
export async function newClient(provider: Provider, input: CreateClientInput, now: number): Promise<{ client: OAuthClient; secret: string | undefined }> {
  const applicationType = input.application_type ?? 'web'
  const redirectUris = input.redirect_uris ?? []
  const method = input.token_endpoint_auth_method ?? (applicationType === 'native' ? 'none' : 'client_secret_basic')
  const grantTypes = input.grant_types ?? defaultGrantTypes(applicationType, redirectUris)
  const clientId = input.client_id ?? `client-${randomBytes(12).toString('base64url')}`
  const created = method === 'none' ? undefined : createClientSecret()
  const client: OAuthClient = {
    clientId,
    name: input.client_name ?? clientId,
    applicationType,
    tokenEndpointAuthMethod: method,
    secretHash: created?.hash ?? null,
    redirectUris,
    postLogoutRedirectUris: input.post_logout_redirect_uris ?? [],
    grantTypes,
    scopes: parseScope(input.scope ?? DEFAULT_CLIENT_SCOPE),
    idTokenSignedResponseAlg: input.id_token_signed_response_alg ?? null,
    createdAt: now,
    updatedAt: now,
  }
  await checkClient(provider, client)
  return { client, secret: created?.secret }
}

/**
 * `current` with an admin's changes. A client that becomes confidential gets
 * a new secret (returned once); one that becomes public loses its hash.
 */
export async function changedClient(
  provider: Provider,
  current: OAuthClient,
  input: UpdateClientInput,
  now: number,
): Promise<{ client: OAuthClient; secret: string | undefined }> {
  const applicationType = input.application_type ?? current.applicationType
  const method = input.token_endpoint_auth_method ?? (input.application_type === 'native' ? 'none' : current.tokenEndpointAuthMethod)
  const created = method !== 'none' && current.secretHash === null ? createClientSecret() : undefined
  const client: OAuthClient = {
    ...current,
    name: input.client_name ?? current.name,
    applicationType,
    tokenEndpointAuthMethod: method,
    secretHash: method === 'none' ? null : (created?.hash ?? current.secretHash),
    redirectUris: input.redirect_uris ?? current.redirectUris,
    postLogoutRedirectUris: input.post_logout_redirect_uris ?? current.postLogoutRedirectUris,
    grantTypes: input.grant_types ?? current.grantTypes,
    scopes: input.scope === undefined ? current.scopes : parseScope(input.scope),
    idTokenSignedResponseAlg: input.id_token_signed_response_alg ?? current.idTokenSignedResponseAlg,
    updatedAt: now,
  }
  await checkClient(provider, client)
  return { client, secret: created?.secret }
}

function defaultGrantTypes(applicationType: 'native' | 'web', redirectUris: readonly string[]): string[] {
  if (applicationType === 'web') return ['authorization_code', 'refresh_token']
  return redirectUris.length > 0 ? ['authorization_code', DEVICE_CODE_GRANT, 'refresh_token'] : [DEVICE_CODE_GRANT, 'refresh_token']
}

function parseScope(scope: string): string[] {
  return [...new Set(scope.split(' ').filter(Boolean))]
}

/**
 * Our rules, then oidc-provider's own validation of the metadata (the same
 * it applies when it loads the client), so a client that is stored always
 * loads: RFC 8252 redirect URI rules for native apps, https or loopback, no
 * fragments, response types that fit the grant types.
 */
async function checkClient(provider: Provider, client: OAuthClient): Promise<void> {
  const problems = clientProblems(client)
  if (problems.length > 0) throw new InvalidRequest(problems.join('; '))
  try {
    await provider.Client.validate(clientMetadata(client))
  } catch (err) {
    if (err instanceof errors.InvalidClientMetadata) throw new InvalidRequest(err.error_description ?? err.message)
    throw err
  }
}

/** What this IdP does not allow in a client, whoever registers it (admin API or RFC 7591); empty when nothing. */
export function clientProblems(client: OAuthClient): string[] {
  const problems: string[] = []
  const unknownGrants = client.grantTypes.filter((g) => !(REGISTRABLE_GRANT_TYPES as readonly string[]).includes(g))
  if (unknownGrants.length > 0) {
    problems.push(`grant_types: ${unknownGrants.map((g) => `"${g.slice(0, 80)}"`).join(', ')} cannot be registered; use ${REGISTRABLE_GRANT_TYPES.join(', ')}`)
  }
  if (client.applicationType === 'native' && client.tokenEndpointAuthMethod !== 'none') {
    problems.push('token_endpoint_auth_method: a native app is a public client (none); it cannot keep a secret (RFC 8252 §8.5)')
  }
  if (client.grantTypes.includes('authorization_code') && client.redirectUris.length === 0) {
    problems.push('redirect_uris: the authorization_code grant needs at least one')
  }
  if (client.grantTypes.includes('refresh_token') && client.grantTypes.length === 1) {
    problems.push('grant_types: refresh_token needs a grant that signs people in (authorization_code or the device code grant)')
  }
  const unknownScopes = client.scopes.filter((s) => !(OIDC_SCOPES as readonly string[]).includes(s))
  if (unknownScopes.length > 0)
    problems.push(`scope: unknown ${unknownScopes.map((s) => `"${s.slice(0, 64)}"`).join(', ')}; a client may have ${OIDC_SCOPES.join(', ')}`)
  else if (!client.scopes.includes('openid')) problems.push('scope: must include openid (the IdP signs people in with OpenID Connect)')
  return problems
}
