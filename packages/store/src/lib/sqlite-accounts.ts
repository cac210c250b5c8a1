import { Conflict, NotFound } from '@mqtt-oidc/core'
import type { Account, AccountStore, ClientIdMode } from '@mqtt-oidc/core'
import { createSqliteConfiguredIds } from './sqlite-client-ids.js'
import { isUniqueViolation, type SqliteDatabase } from './sqlite-open.js'

interface Row {
  id: string; username: string; password_hash: string; client_ids: string; groups: string
  disabled: number; created_at: number; client_id_mode: ClientIdMode
}

const toAccount = (r: Row): Account => ({
  id: r.id, username: r.username, passwordHash: r.password_hash,
  clientIds: JSON.parse(r.client_ids) as string[], groups: JSON.parse(r.groups) as string[],
  disabled: r.disabled === 1, createdAt: r.created_at, clientIdMode: r.client_id_mode,
})

export function createSqliteAccounts(db: SqliteDatabase): AccountStore {
  const insert = db.prepare(`INSERT INTO accounts (id, username, password_hash, client_ids, groups, disabled, created_at, client_id_mode)
    VALUES (@id, @username, @passwordHash, @clientIds, @groups, @disabled, @createdAt, @clientIdMode)`)
  const byId = db.prepare('SELECT * FROM accounts WHERE id = ?')
  const byName = db.prepare('SELECT * FROM accounts WHERE username = ?')
  const all = db.prepare('SELECT * FROM accounts ORDER BY username')
  const save = db.prepare(`UPDATE accounts SET username = @username, password_hash = @passwordHash,
    client_ids = @clientIds, groups = @groups, disabled = @disabled, client_id_mode = @clientIdMode WHERE id = @id`)
  const row = (a: Account) => ({
    ...a, clientIds: JSON.stringify(a.clientIds), groups: JSON.stringify(a.groups), disabled: a.disabled ? 1 : 0,
    clientIdMode: a.clientIdMode ?? 'per-login',
  })

  const ids = createSqliteConfiguredIds(db)
  const nowSeconds = (): number => Math.floor(Date.now() / 1000)
  // The account and the ids it owns change together or not at all.
  const createWithIds = db.transaction((account: Account) => {
    insert.run(row(account))
    ids.claim(account.id, account.clientIds, nowSeconds())
  })
  const saveWithIds = db.transaction((before: Account, next: Account) => {
    save.run(row(next))
    ids.release(next.id, before.clientIds.filter((id) => !next.clientIds.includes(id)))
    ids.claim(next.id, next.clientIds.filter((id) => !before.clientIds.includes(id)), nowSeconds())
  })

  return {
    async create(account) {
      try { createWithIds.immediate(account) } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`account "${account.username}" already exists`)
        throw err
      }
    },
    async findById(id) { const r = byId.get(id) as Row | undefined; return r && toAccount(r) },
    async findByUsername(username) { const r = byName.get(username) as Row | undefined; return r && toAccount(r) },
    async list() { return (all.all() as Row[]).map(toAccount) },
    async update(id, patch) {
      const current = byId.get(id) as Row | undefined
      if (!current) throw new NotFound(`no account with id "${id}"`)
      const before = toAccount(current)
      const next: Account = { ...before, ...patch, id, createdAt: current.created_at }
      try { saveWithIds.immediate(before, next) } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`account "${next.username}" already exists`)
        throw err
      }
      return next
    },
  }
}
