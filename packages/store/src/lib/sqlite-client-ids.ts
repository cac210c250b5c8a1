import type { ClientIdHolding, ClientIdOwner, ClientIdRegistry } from '@mqtt-oidc/core'
import { lapsed, sameOwner, takenError, toHolding, type HoldingRow as Row } from './client-id-holdings.js'
import type { SqliteDatabase } from './sqlite-open.js'

const ownerColumns = (owner: ClientIdOwner) => owner.kind === 'account'
  ? { accountId: owner.accountId, issuer: null, subject: null }
  : { accountId: null, issuer: owner.issuer, subject: owner.subject }

/**
 * The registry's writes that the account store makes inside its own
 * transactions (create, update), so an account and the ids it owns never
 * disagree. Synchronous: better-sqlite3 transactions are.
 */
export interface SqliteConfiguredIds {
  /** Makes `accountId` the owner of `ids` (configured); throws ClientIdTaken on the first id held by another. */
  claim(accountId: string, ids: readonly string[], now: number): void
  /** Drops `accountId`'s configured holding of `ids`; a conflict goes to the one account still listing it. */
  release(accountId: string, ids: readonly string[]): void
}

export function createSqliteConfiguredIds(db: SqliteDatabase): SqliteConfiguredIds {
  const get = db.prepare('SELECT * FROM client_id_owners WHERE client_id = ?')
  const put = db.prepare(`INSERT INTO client_id_owners (client_id, source, account_id, issuer, subject, expires_at, created_at)
    VALUES (@clientId, 'configured', @accountId, NULL, NULL, NULL, @now)
    ON CONFLICT (client_id) DO UPDATE SET source = 'configured', account_id = @accountId, issuer = NULL, subject = NULL, expires_at = NULL`)
  const drop = db.prepare("DELETE FROM client_id_owners WHERE client_id = ? AND account_id = ? AND source = 'configured'")
  const listers = db.prepare('SELECT DISTINCT accounts.id AS id FROM accounts, json_each(accounts.client_ids) AS ids WHERE ids.value = ? ORDER BY accounts.id')
  const resolve = db.prepare("UPDATE client_id_owners SET source = 'configured', account_id = ? WHERE client_id = ? AND source = 'conflict'")
  const forget = db.prepare("DELETE FROM client_id_owners WHERE client_id = ? AND source = 'conflict'")
  return {
    claim(accountId, ids, now) {
      for (const clientId of ids) {
        const row = get.get(clientId) as Row | undefined
        const holding = row && toHolding(row)
        const mine = holding !== undefined && holding.source !== 'conflict' && sameOwner(holding.owner, { kind: 'account', accountId })
        if (holding && !mine && !lapsed(holding, now)) throw takenError(clientId, holding)
        put.run({ clientId, accountId, now })
      }
    },
    release(accountId, ids) {
      for (const clientId of ids) {
        drop.run(clientId, accountId)
        const row = get.get(clientId) as Row | undefined
        if (row?.source !== 'conflict') continue
        const still = (listers.all(clientId) as Array<{ id: string }>).map((r) => r.id).filter((id) => id !== accountId)
        if (still.length === 1) resolve.run(still[0], clientId)
        else if (still.length === 0) forget.run(clientId)
      }
    },
  }
}

export function createSqliteClientIds(db: SqliteDatabase): ClientIdRegistry {
  const get = db.prepare('SELECT * FROM client_id_owners WHERE client_id = ?')
  const byAccount = db.prepare('SELECT * FROM client_id_owners WHERE account_id = ? ORDER BY created_at, client_id')
  const bySubject = db.prepare('SELECT * FROM client_id_owners WHERE issuer = ? AND subject = ? ORDER BY created_at, client_id')
  const put = db.prepare(`INSERT INTO client_id_owners (client_id, source, account_id, issuer, subject, expires_at, created_at)
    VALUES (@clientId, @source, @accountId, @issuer, @subject, @expiresAt, @now)
    ON CONFLICT (client_id) DO UPDATE SET source = @source, account_id = @accountId, issuer = @issuer, subject = @subject,
      expires_at = @expiresAt, created_at = @now`)
  const extend = db.prepare('UPDATE client_id_owners SET expires_at = ? WHERE client_id = ?')
  const conflicts = db.prepare("SELECT client_id FROM client_id_owners WHERE source = 'conflict' ORDER BY client_id")
  const listers = db.prepare('SELECT DISTINCT accounts.id AS id FROM accounts, json_each(accounts.client_ids) AS ids WHERE ids.value = ? ORDER BY accounts.id')
  const prune = db.prepare("DELETE FROM client_id_owners WHERE source = 'lease' AND expires_at IS NOT NULL AND expires_at <= ?")
  const live = (row: Row | undefined, now: number): ClientIdHolding | undefined => {
    const holding = row && toHolding(row)
    return holding && !lapsed(holding, now) ? holding : undefined
  }

  const claim = db.transaction((clientId: string, owner: ClientIdOwner, how: { source: 'lease' | 'exchange'; expiresAt: number | null; now: number }): ClientIdHolding => {
    const current = live(get.get(clientId) as Row | undefined, how.now)
    if (current && !sameOwner(current.owner, owner)) return current
    if (current && current.source !== how.source) return current
    if (current) {
      const expiresAt = current.expiresAt === null || how.expiresAt === null ? null : Math.max(current.expiresAt, how.expiresAt)
      extend.run(expiresAt, clientId)
      return { ...current, expiresAt }
    }
    put.run({ clientId, source: how.source, ...ownerColumns(owner), expiresAt: how.expiresAt, now: how.now })
    return { clientId, owner, source: how.source, expiresAt: how.expiresAt, createdAt: how.now }
  })

  return {
    async holder(clientId, now) { return live(get.get(clientId) as Row | undefined, now) },
    async heldBy(owner, now) {
      const rows = (owner.kind === 'account' ? byAccount.all(owner.accountId) : bySubject.all(owner.issuer, owner.subject)) as Row[]
      return rows.map(toHolding).filter((h) => !lapsed(h, now))
    },
    async claim(clientId, owner, how) { return claim.immediate(clientId, owner, how) },
    async release(clientId, owner) {
      const cols = ownerColumns(owner)
      db.prepare(`DELETE FROM client_id_owners WHERE client_id = ? AND source IN ('lease', 'exchange')
        AND account_id IS ? AND issuer IS ? AND subject IS ?`).run(clientId, cols.accountId, cols.issuer, cols.subject)
    },
    async conflicts() {
      return (conflicts.all() as Array<{ client_id: string }>).map(({ client_id: clientId }) => ({
        clientId, accountIds: (listers.all(clientId) as Array<{ id: string }>).map((r) => r.id),
      }))
    },
    async prune(now) { return prune.run(now).changes },
  }
}
