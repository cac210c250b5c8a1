import { Conflict, NotFound } from '@mqtt-oidc/core'
import type { OAuthClient, OAuthClientStore } from '@mqtt-oidc/core'
import { isPgUniqueViolation, type PgPool } from './postgres-pool.js'

interface Row {
  client_id: string; name: string; application_type: OAuthClient['applicationType']
  token_endpoint_auth_method: OAuthClient['tokenEndpointAuthMethod']; secret_hash: string | null
  redirect_uris: string[]; post_logout_redirect_uris: string[]; grant_types: string[]; scopes: string[]
  id_token_signed_response_alg: string | null
  created_at: number; updated_at: number
}

const toClient = (r: Row): OAuthClient => ({
  clientId: r.client_id, name: r.name, applicationType: r.application_type, tokenEndpointAuthMethod: r.token_endpoint_auth_method,
  secretHash: r.secret_hash, redirectUris: r.redirect_uris, postLogoutRedirectUris: r.post_logout_redirect_uris,
  grantTypes: r.grant_types, scopes: r.scopes, idTokenSignedResponseAlg: r.id_token_signed_response_alg, createdAt: r.created_at, updatedAt: r.updated_at,
})

const columns = (c: OAuthClient): unknown[] => [
  c.clientId, c.name, c.applicationType, c.tokenEndpointAuthMethod, c.secretHash, JSON.stringify(c.redirectUris),
  JSON.stringify(c.postLogoutRedirectUris), JSON.stringify(c.grantTypes), JSON.stringify(c.scopes), c.idTokenSignedResponseAlg, c.createdAt, c.updatedAt,
]

/** Index of created_at in `columns`: never rewritten by an update. */
const CREATED_AT = 10

export function createPostgresOAuthClients(pool: PgPool): OAuthClientStore {
  const get = async (clientId: string): Promise<OAuthClient | undefined> => {
    const { rows } = await pool.query<Row>('SELECT * FROM oauth_clients WHERE client_id = $1', [clientId])
    return rows[0] && toClient(rows[0])
  }
  return {
    async create(client) {
      await pool.query(`INSERT INTO oauth_clients (client_id, name, application_type, token_endpoint_auth_method, secret_hash,
        redirect_uris, post_logout_redirect_uris, grant_types, scopes, id_token_signed_response_alg, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, columns(client))
        .catch((err: unknown) => { throw isPgUniqueViolation(err) ? new Conflict(`client "${client.clientId}" already exists`) : err })
    },
    get,
    async list() { return (await pool.query<Row>('SELECT * FROM oauth_clients ORDER BY client_id')).rows.map(toClient) },
    async update(clientId, patch) {
      const current = await get(clientId)
      if (!current) throw new NotFound(`no client "${clientId}"`)
      const next: OAuthClient = { ...current, ...patch, clientId, createdAt: current.createdAt }
      const { rowCount } = await pool.query(`UPDATE oauth_clients SET name = $2, application_type = $3, token_endpoint_auth_method = $4,
        secret_hash = $5, redirect_uris = $6, post_logout_redirect_uris = $7, grant_types = $8, scopes = $9, id_token_signed_response_alg = $10, updated_at = $11
        WHERE client_id = $1`, columns(next).filter((_, i) => i !== CREATED_AT))
      if ((rowCount ?? 0) === 0) throw new NotFound(`no client "${clientId}"`)
      return next
    },
    async delete(clientId) {
      if (((await pool.query('DELETE FROM oauth_clients WHERE client_id = $1', [clientId])).rowCount ?? 0) === 0) throw new NotFound(`no client "${clientId}"`)
    },
  }
}
