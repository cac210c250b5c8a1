import type { AccountCutoff, AccountCutoffStore } from '@mqtt-oidc/core'
import type { SqliteDatabase } from './sqlite-open.js'

interface Row { account_id: string; not_before: number; revision: number }
const toCutoff = (r: Row): AccountCutoff => ({ accountId: r.account_id, notBefore: Number(r.not_before), revision: Number(r.revision) })

/** Account cut-offs; one writer at a time (SQLite), so revisions are handed out in commit order. */
export function createSqliteCutoffs(db: SqliteDatabase): AccountCutoffStore {
  const get = db.prepare('SELECT * FROM account_cutoffs WHERE account_id = ?')
  const upsert = db.prepare(`INSERT INTO account_cutoffs (account_id, not_before, revision)
    VALUES (@accountId, @notBefore, (SELECT COALESCE(MAX(revision), 0) + 1 FROM account_cutoffs))
    ON CONFLICT (account_id) DO UPDATE SET not_before = MAX(not_before, excluded.not_before), revision = excluded.revision`)
  const since = db.prepare('SELECT * FROM account_cutoffs WHERE revision > ? ORDER BY revision LIMIT ?')
  const set = db.transaction((accountId: string, notBefore: number): AccountCutoff => {
    upsert.run({ accountId, notBefore })
    return toCutoff(get.get(accountId) as Row)
  })
  return {
    async set(accountId, notBefore) { return set.immediate(accountId, notBefore) },
    async get(accountId) { const r = get.get(accountId) as Row | undefined; return r && toCutoff(r) },
    async since(revision, limit = 1000) { return (since.all(revision, limit) as Row[]).map(toCutoff) },
  }
}
