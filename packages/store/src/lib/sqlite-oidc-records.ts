import type { OidcPayload, OidcRecordStore } from '@mqtt-oidc/core'
import type { SqliteDatabase } from './sqlite-open.js'

interface Row { payload: string; expires_at: number | null }

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** oidc-provider records in one table keyed by (model, id). Expired records read as absent. */
export function createSqliteOidcRecords(db: SqliteDatabase): OidcRecordStore {
  const upsert = db.prepare(`INSERT INTO oidc_records (model, id, payload, grant_id, user_code, uid, expires_at)
    VALUES (@model, @id, @payload, @grantId, @userCode, @uid, @expiresAt)
    ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
      user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`)
  const find = db.prepare('SELECT payload, expires_at FROM oidc_records WHERE model = ? AND id = ?')
  const findByUserCode = db.prepare('SELECT payload, expires_at FROM oidc_records WHERE model = ? AND user_code = ?')
  const findByUid = db.prepare('SELECT payload, expires_at FROM oidc_records WHERE model = ? AND uid = ?')
  const destroy = db.prepare('DELETE FROM oidc_records WHERE model = ? AND id = ?')
  const revokeByGrant = db.prepare('DELETE FROM oidc_records WHERE grant_id = ?')
  const prune = db.prepare('DELETE FROM oidc_records WHERE expires_at IS NOT NULL AND expires_at < ?')
  // A scan: only a disable asks, and rarely.
  const destroyByAccount = db.prepare("DELETE FROM oidc_records WHERE json_extract(payload, '$.accountId') = ?")
  const consume = db.transaction((model: string, id: string) => {
    const row = find.get(model, id) as Row | undefined
    if (!row) return
    const payload = JSON.parse(row.payload) as OidcPayload
    payload.consumed = nowSeconds()
    db.prepare('UPDATE oidc_records SET payload = ? WHERE model = ? AND id = ?').run(JSON.stringify(payload), model, id)
  })

  const live = (row: Row | undefined): OidcPayload | undefined => {
    if (!row) return undefined
    if (row.expires_at !== null && row.expires_at < nowSeconds()) return undefined
    return JSON.parse(row.payload) as OidcPayload
  }
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

  return {
    async upsert(model, id, payload, expiresIn) {
      upsert.run({
        model, id, payload: JSON.stringify(payload),
        grantId: str(payload.grantId), userCode: str(payload.userCode), uid: str(payload.uid),
        expiresAt: expiresIn > 0 ? nowSeconds() + expiresIn : null,
      })
    },
    async find(model, id) { return live(find.get(model, id) as Row | undefined) },
    async findByUserCode(model, userCode) { return live(findByUserCode.get(model, userCode) as Row | undefined) },
    async findByUid(model, uid) { return live(findByUid.get(model, uid) as Row | undefined) },
    async consume(model, id) { consume.immediate(model, id) },
    async destroy(model, id) { destroy.run(model, id) },
    async revokeByGrantId(_model, grantId) { revokeByGrant.run(grantId) },
    async destroyByAccount(accountId) { return destroyByAccount.run(accountId).changes },
    async prune(now) { return prune.run(now).changes },
  }
}
