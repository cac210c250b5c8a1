import { Conflict, NotFound } from '@mqtt-oidc/core'
import type { OAuthClient, OAuthClientStore } from '@mqtt-oidc/core'
import { isUniqueViolation, type SqliteDatabase } from './sqlite-open.js'

interface Row {
  client_id: string; name: string; application_type: OAuthClient['applicationType']
  token_endpoint_auth_method: OAuthClient['tokenEndpointAuthMethod']; secret_hash: string | null
  redirect_uris: string; post_logout_redirect_uris: string; grant_types: string; scopes: string
  id_token_signed_response_alg: string | null
  created_at: number; updated_at: number
}

const list = (json: string): string[] => JSON.parse(json) as string[]

const toClient = (r: Row): OAuthClient => ({
  clientId: r.client_id, name: r.name, applicationType: r.application_type, tokenEndpointAuthMethod: r.token_endpoint_auth_method,
  secretHash: r.secret_hash, redirectUris: list(r.redirect_uris), postLogoutRedirectUris: list(r.post_logout_redirect_uris),
  grantTypes: list(r.grant_types), scopes: list(r.scopes), idTokenSignedResponseAlg: r.id_token_signed_response_alg, createdAt: r.created_at, updatedAt: r.updated_at,
})

const toRow = (c: OAuthClient): Row => ({
  client_id: c.clientId, name: c.name, application_type: c.applicationType, token_endpoint_auth_method: c.tokenEndpointAuthMethod,
  secret_hash: c.secretHash, redirect_uris: JSON.stringify(c.redirectUris), post_logout_redirect_uris: JSON.stringify(c.postLogoutRedirectUris),
  grant_types: JSON.stringify(c.grantTypes), scopes: JSON.stringify(c.scopes), id_token_signed_response_alg: c.idTokenSignedResponseAlg, created_at: c.createdAt, updated_at: c.updatedAt,
})

export function createSqliteOAuthClients(db: SqliteDatabase): OAuthClientStore {
  const insert = db.prepare(`INSERT INTO oauth_clients (client_id, name, application_type, token_endpoint_auth_method, secret_hash,
    redirect_uris, post_logout_redirect_uris, grant_types, scopes, id_token_signed_response_alg, created_at, updated_at)
    VALUES (@client_id, @name, @application_type, @token_endpoint_auth_method, @secret_hash,
    @redirect_uris, @post_logout_redirect_uris, @grant_types, @scopes, @id_token_signed_response_alg, @created_at, @updated_at)`)
  const get = db.prepare('SELECT * FROM oauth_clients WHERE client_id = ?')
  const all = db.prepare('SELECT * FROM oauth_clients ORDER BY client_id')
  const save = db.prepare(`UPDATE oauth_clients SET name = @name, application_type = @application_type,
    token_endpoint_auth_method = @token_endpoint_auth_method, secret_hash = @secret_hash, redirect_uris = @redirect_uris,
    post_logout_redirect_uris = @post_logout_redirect_uris, grant_types = @grant_types, scopes = @scopes,
    id_token_signed_response_alg = @id_token_signed_response_alg, updated_at = @updated_at
    WHERE client_id = @client_id`)
  const del = db.prepare('DELETE FROM oauth_clients WHERE client_id = ?')

  return {
    async create(client) {
      try { insert.run(toRow(client)) } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`client "${client.clientId}" already exists`)
        throw err
      }
    },
    async get(clientId) { const r = get.get(clientId) as Row | undefined; return r && toClient(r) },
    async list() { return (all.all() as Row[]).map(toClient) },
    async update(clientId, patch) {
      const current = get.get(clientId) as Row | undefined
      if (!current) throw new NotFound(`no client "${clientId}"`)
      const next: OAuthClient = { ...toClient(current), ...patch, clientId, createdAt: current.created_at }
      save.run(toRow(next))
      return next
    },
    async delete(clientId) {
      if (del.run(clientId).changes === 0) throw new NotFound(`no client "${clientId}"`)
    },
  }
}
