import { Conflict, NotFound } from '@mqtt-oidc/core'
import type { Account, AccountStore, ClientIdMode, OidcPayload, OidcRecordStore, SigningKeyStore } from '@mqtt-oidc/core'
import { claimConfiguredIds, releaseConfiguredIds } from './postgres-client-ids.js'
import { inTransaction, isPgUniqueViolation, type PgPool } from './postgres-pool.js'

const nowSeconds = (): number => Math.floor(Date.now() / 1000)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** oidc-provider records; expired ones read as absent. */
export function createPostgresOidcRecords(pool: PgPool): OidcRecordStore {
  const live = async (where: string, params: unknown[]): Promise<OidcPayload | undefined> => {
    const { rows } = await pool.query<{ payload: OidcPayload }>(
      `SELECT payload FROM oidc_records WHERE ${where} AND (expires_at IS NULL OR expires_at >= $${params.length + 1})`,
      [...params, nowSeconds()])
    return rows[0]?.payload
  }
  return {
    async upsert(model, id, payload, expiresIn) {
      await pool.query(`INSERT INTO oidc_records (model, id, payload, grant_id, user_code, uid, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
          user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
      [model, id, JSON.stringify(payload), str(payload.grantId), str(payload.userCode), str(payload.uid),
        expiresIn > 0 ? nowSeconds() + expiresIn : null])
    },
    find: (model, id) => live('model = $1 AND id = $2', [model, id]),
    findByUserCode: (model, userCode) => live('model = $1 AND user_code = $2', [model, userCode]),
    findByUid: (model, uid) => live('model = $1 AND uid = $2', [model, uid]),
    async consume(model, id) {
      await pool.query(`UPDATE oidc_records SET payload = jsonb_set(payload, '{consumed}', to_jsonb($3::bigint))
        WHERE model = $1 AND id = $2`, [model, id, nowSeconds()])
    },
    async destroy(model, id) { await pool.query('DELETE FROM oidc_records WHERE model = $1 AND id = $2', [model, id]) },
    async revokeByGrantId(_model, grantId) { await pool.query('DELETE FROM oidc_records WHERE grant_id = $1', [grantId]) },
    // A scan: only a disable asks, and rarely.
    async destroyByAccount(accountId) {
      return (await pool.query("DELETE FROM oidc_records WHERE payload ->> 'accountId' = $1", [accountId])).rowCount ?? 0
    },
    async prune(now) {
      return (await pool.query('DELETE FROM oidc_records WHERE expires_at IS NOT NULL AND expires_at < $1', [now])).rowCount ?? 0
    },
  }
}

interface AccountRow {
  id: string; username: string; password_hash: string; client_ids: string[]; groups: string[]; disabled: boolean; created_at: number
  client_id_mode: ClientIdMode
}
const toAccount = (r: AccountRow): Account => ({
  id: r.id, username: r.username, passwordHash: r.password_hash, clientIds: r.client_ids, groups: r.groups,
  disabled: r.disabled, createdAt: r.created_at, clientIdMode: r.client_id_mode,
})

export function createPostgresAccounts(pool: PgPool): AccountStore {
  const one = async (where: string, value: string): Promise<Account | undefined> => {
    const { rows } = await pool.query<AccountRow>(`SELECT * FROM accounts WHERE ${where} = $1`, [value])
    return rows[0] && toAccount(rows[0])
  }
  const conflict = (err: unknown, username: string): unknown =>
    isPgUniqueViolation(err) ? new Conflict(`account "${username}" already exists`) : err
  return {
    // The account and the ids it owns change together or not at all.
    create: (a) => inTransaction(pool, async (client) => {
      await client.query(`INSERT INTO accounts (id, username, password_hash, client_ids, groups, disabled, created_at, client_id_mode)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [a.id, a.username, a.passwordHash, JSON.stringify(a.clientIds), JSON.stringify(a.groups), a.disabled, a.createdAt, a.clientIdMode ?? 'per-login'])
        .catch((err: unknown) => { throw conflict(err, a.username) })
      await claimConfiguredIds(client, a.id, a.clientIds, nowSeconds())
    }),
    findById: (id) => one('id', id),
    findByUsername: (username) => one('username', username),
    async list() { return (await pool.query<AccountRow>('SELECT * FROM accounts ORDER BY username')).rows.map(toAccount) },
    update: (id, patch) => inTransaction(pool, async (client) => {
      const { rows } = await client.query<AccountRow>('SELECT * FROM accounts WHERE id = $1 FOR UPDATE', [id])
      if (!rows[0]) throw new NotFound(`no account with id "${id}"`)
      const before = toAccount(rows[0])
      const next: Account = { ...before, ...patch, id, createdAt: before.createdAt }
      await client.query(`UPDATE accounts SET username = $2, password_hash = $3, client_ids = $4, groups = $5, disabled = $6, client_id_mode = $7 WHERE id = $1`,
        [id, next.username, next.passwordHash, JSON.stringify(next.clientIds), JSON.stringify(next.groups), next.disabled, next.clientIdMode ?? 'per-login'])
        .catch((err: unknown) => { throw conflict(err, next.username) })
      await releaseConfiguredIds(client, id, before.clientIds.filter((c) => !next.clientIds.includes(c)))
      await claimConfiguredIds(client, id, next.clientIds.filter((c) => !before.clientIds.includes(c)), nowSeconds())
      return next
    }),
  }
}

interface KeyRow { kid: string; alg: string; owner: 'idp' | 'exchange'; private_jwk: Record<string, unknown>; created_at: number; retired_at: number | null }

export function createPostgresSigningKeys(pool: PgPool): SigningKeyStore {
  return {
    async add(k) {
      await pool.query('INSERT INTO signing_keys (kid, alg, owner, private_jwk, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [k.kid, k.alg, k.owner, JSON.stringify(k.privateJwk), k.createdAt, k.retiredAt])
        .catch((err: unknown) => { throw isPgUniqueViolation(err) ? new Conflict(`signing key "${k.kid}" already exists`) : err })
    },
    async list(owner) {
      const { rows } = await pool.query<KeyRow>('SELECT * FROM signing_keys WHERE owner = $1 ORDER BY created_at, kid', [owner])
      return rows.map((r) => ({ kid: r.kid, alg: r.alg, owner: r.owner, privateJwk: r.private_jwk, createdAt: r.created_at, retiredAt: r.retired_at }))
    },
    async retire(kid, at) { await pool.query('UPDATE signing_keys SET retired_at = $2 WHERE kid = $1', [kid, at]) },
  }
}
