import type { AccountCutoff, AccountCutoffStore } from '@mqtt-oidc/core'
import { inTransaction, type PgPool } from './postgres-pool.js'

interface Row { account_id: string; not_before: number; revision: number }
const toCutoff = (r: Row): AccountCutoff => ({ accountId: r.account_id, notBefore: r.not_before, revision: r.revision })

/**
 * Account cut-offs. Writers take the table lock in turn, so revisions are
 * handed out in commit order and a follower reading `since(cursor)` never
 * skips one that commits late.
 */
export function createPostgresCutoffs(pool: PgPool): AccountCutoffStore {
  return {
    set: (accountId, notBefore) => inTransaction(pool, async (client) => {
      await client.query('LOCK TABLE account_cutoffs IN SHARE ROW EXCLUSIVE MODE')
      const { rows } = await client.query<Row>(`INSERT INTO account_cutoffs (account_id, not_before, revision)
        VALUES ($1, $2, (SELECT COALESCE(MAX(revision), 0) + 1 FROM account_cutoffs))
        ON CONFLICT (account_id) DO UPDATE SET not_before = GREATEST(account_cutoffs.not_before, excluded.not_before), revision = excluded.revision
        RETURNING *`, [accountId, notBefore])
      return toCutoff(rows[0]!)
    }),
    async get(accountId) {
      const { rows } = await pool.query<Row>('SELECT * FROM account_cutoffs WHERE account_id = $1', [accountId])
      return rows[0] && toCutoff(rows[0])
    },
    async since(revision, limit = 1000) {
      return (await pool.query<Row>('SELECT * FROM account_cutoffs WHERE revision > $1 ORDER BY revision LIMIT $2', [revision, limit])).rows.map(toCutoff)
    },
  }
}
