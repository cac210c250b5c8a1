import type { ClientIdHolding, ClientIdOwner, ClientIdRegistry } from '@mqtt-oidc/core'
import { lapsed, sameOwner, takenError, toHolding, type HoldingRow as Row } from './client-id-holdings.js'
import { inTransaction, type PgClient, type PgPool } from './postgres-pool.js'

/** A pool or a transaction's client: whatever runs one statement. */
type Queryable = Pick<PgPool, 'query'>

const ownerParams = (owner: ClientIdOwner): [string | null, string | null, string | null] => owner.kind === 'account'
  ? [owner.accountId, null, null]
  : [null, owner.issuer, owner.subject]

async function holderOf(db: Queryable, clientId: string): Promise<ClientIdHolding | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM client_id_owners WHERE client_id = $1', [clientId])
  return rows[0] && toHolding(rows[0])
}

/**
 * Makes `accountId` the owner of `ids` inside the caller's transaction. Each
 * upsert takes the row only when it is already the account's or a lapsed
 * lease, decided on the row's latest version (ON CONFLICT locks it), so two
 * instances claiming one id at once cannot both win.
 */
export async function claimConfiguredIds(client: PgClient, accountId: string, ids: readonly string[], now: number): Promise<void> {
  for (const clientId of ids) {
    const { rowCount } = await client.query(`INSERT INTO client_id_owners (client_id, source, account_id, issuer, subject, expires_at, created_at)
      VALUES ($1, 'configured', $2, NULL, NULL, NULL, $3)
      ON CONFLICT (client_id) DO UPDATE SET source = 'configured', account_id = excluded.account_id, issuer = NULL, subject = NULL, expires_at = NULL
      WHERE client_id_owners.account_id = excluded.account_id
        OR (client_id_owners.expires_at IS NOT NULL AND client_id_owners.expires_at <= $3)`, [clientId, accountId, now])
    if (rowCount === 1) continue
    const holding = await holderOf(client, clientId)
    if (holding) throw takenError(clientId, holding)
  }
}

/** Drops `accountId`'s configured holding of `ids`; a conflict goes to the one account still listing it. */
export async function releaseConfiguredIds(client: PgClient, accountId: string, ids: readonly string[]): Promise<void> {
  for (const clientId of ids) {
    await client.query("DELETE FROM client_id_owners WHERE client_id = $1 AND account_id = $2 AND source = 'configured'", [clientId, accountId])
    const holding = await holderOf(client, clientId)
    if (holding?.source !== 'conflict') continue
    const { rows } = await client.query<{ id: string }>('SELECT id FROM accounts WHERE jsonb_exists(client_ids, $1) AND id <> $2 ORDER BY id', [clientId, accountId])
    if (rows.length === 1) await client.query("UPDATE client_id_owners SET source = 'configured', account_id = $2 WHERE client_id = $1 AND source = 'conflict'", [clientId, rows[0]!.id])
    else if (rows.length === 0) await client.query("DELETE FROM client_id_owners WHERE client_id = $1 AND source = 'conflict'", [clientId])
  }
}

export function createPostgresClientIds(pool: PgPool): ClientIdRegistry {
  const live = (holding: ClientIdHolding | undefined, now: number) => (holding && !lapsed(holding, now) ? holding : undefined)
  const claim: ClientIdRegistry['claim'] = (clientId, owner, how) => inTransaction(pool, async (client) => {
    // Takes a free id or a lapsed lease; anything else stays as it is.
    const { rows } = await client.query<Row>(`INSERT INTO client_id_owners (client_id, source, account_id, issuer, subject, expires_at, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (client_id) DO UPDATE SET source = excluded.source, account_id = excluded.account_id, issuer = excluded.issuer,
        subject = excluded.subject, expires_at = excluded.expires_at, created_at = excluded.created_at
      WHERE client_id_owners.expires_at IS NOT NULL AND client_id_owners.expires_at <= $7
      RETURNING *`, [clientId, how.source, ...ownerParams(owner), how.expiresAt, how.now])
    if (rows[0]) return toHolding(rows[0])
    const current = (await client.query<Row>('SELECT * FROM client_id_owners WHERE client_id = $1 FOR UPDATE', [clientId])).rows[0]
    const holding = current && toHolding(current)
    if (!holding || !sameOwner(holding.owner, owner) || holding.source !== how.source) return holding
    const expiresAt = holding.expiresAt === null || how.expiresAt === null ? null : Math.max(holding.expiresAt, how.expiresAt)
    await client.query('UPDATE client_id_owners SET expires_at = $2 WHERE client_id = $1', [clientId, expiresAt])
    return { ...holding, expiresAt }
  }).then(async (holding) => holding ?? claim(clientId, owner, how)) // released in between: try again
  return {
    claim,
    async holder(clientId, now) { return live(await holderOf(pool, clientId), now) },
    async heldBy(owner, now) {
      const { rows } = owner.kind === 'account'
        ? await pool.query<Row>('SELECT * FROM client_id_owners WHERE account_id = $1 ORDER BY created_at, client_id', [owner.accountId])
        : await pool.query<Row>('SELECT * FROM client_id_owners WHERE issuer = $1 AND subject = $2 ORDER BY created_at, client_id', [owner.issuer, owner.subject])
      return rows.map(toHolding).filter((h) => !lapsed(h, now))
    },
    async release(clientId, owner) {
      await pool.query(`DELETE FROM client_id_owners WHERE client_id = $1 AND source IN ('lease', 'exchange')
        AND account_id IS NOT DISTINCT FROM $2 AND issuer IS NOT DISTINCT FROM $3 AND subject IS NOT DISTINCT FROM $4`, [clientId, ...ownerParams(owner)])
    },
    async conflicts() {
      const { rows } = await pool.query<{ client_id: string; account_ids: string[] | null }>(`SELECT o.client_id,
          (SELECT array_agg(a.id ORDER BY a.id) FROM accounts a WHERE jsonb_exists(a.client_ids, o.client_id)) AS account_ids
        FROM client_id_owners o WHERE o.source = 'conflict' ORDER BY o.client_id`)
      return rows.map((r) => ({ clientId: r.client_id, accountIds: r.account_ids ?? [] }))
    },
    async prune(now) {
      return (await pool.query("DELETE FROM client_id_owners WHERE source = 'lease' AND expires_at IS NOT NULL AND expires_at <= $1", [now])).rowCount ?? 0
    },
  }
}
