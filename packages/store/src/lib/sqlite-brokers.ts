import { Conflict, NotFound } from '@mqtt-oidc/core'
import type { Broker, BrokerStore, Credential, CredentialStore } from '@mqtt-oidc/core'
import { BROKER_COLUMNS, brokerValues, toBroker, toFeedCredential, type BrokerRow } from './broker-rows.js'
import { isForeignKeyViolation, isUniqueViolation, type SqliteDatabase } from './sqlite-open.js'
import type { SqliteRevocations } from './sqlite-revocations.js'
import type { SqliteCredentialWriter } from './sqlite-credential-writer.js'
import { createSqliteCredentialSearch } from './sqlite-credential-search.js'
import { toCredential, type CredentialRow } from './credential-rows.js'

const fromRow = (r: BrokerRow<string>): Broker => toBroker(r, (text) => JSON.parse(text))

/** `revocations` deletes a broker: its live credentials are revoked in the same transaction. */
export function createSqliteBrokers(db: SqliteDatabase, revocations: Pick<SqliteRevocations, 'deleteBroker'>): BrokerStore {
  const insert = db.prepare(`INSERT INTO brokers (${BROKER_COLUMNS.join(', ')}) VALUES (${BROKER_COLUMNS.map(() => '?').join(', ')})`)
  const get = db.prepare('SELECT * FROM brokers WHERE id = ?')
  const all = db.prepare('SELECT * FROM brokers ORDER BY id')
  // Every column but the id and the creation time, from the same values.
  const updatable = BROKER_COLUMNS.map((c, i) => [c, i] as const).filter(([c]) => c !== 'id' && c !== 'created_at')
  const save = db.prepare(`UPDATE brokers SET ${updatable.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`)
  const setFeed = db.prepare('UPDATE brokers SET feed_credential_sha256 = ?, feed_credential_issued_at = ? WHERE id = ?')
  const getFeed = db.prepare('SELECT feed_credential_sha256, feed_credential_issued_at FROM brokers WHERE id = ?')

  return {
    async create(broker) {
      try { insert.run(...brokerValues(broker)) } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`broker "${broker.id}" already exists`)
        throw err
      }
    },
    async get(id) { const r = get.get(id) as BrokerRow<string> | undefined; return r && fromRow(r) },
    async list() { return (all.all() as BrokerRow<string>[]).map(fromRow) },
    async update(id, patch) {
      const current = get.get(id) as BrokerRow<string> | undefined
      if (!current) throw new NotFound(`no broker "${id}"`)
      const next: Broker = { ...fromRow(current), ...patch, id, createdAt: current.created_at }
      const values = brokerValues(next)
      save.run(...updatable.map(([, i]) => values[i]), id)
      return next
    },
    async setFeedCredential(id, credential) {
      if (setFeed.run(credential.sha256, credential.issuedAt, id).changes === 0) throw new NotFound(`no broker "${id}"`)
    },
    async feedCredential(id) {
      const r = getFeed.get(id) as Parameters<typeof toFeedCredential>[0] | undefined
      return r && toFeedCredential(r)
    },
    delete: (id, now) => revocations.deleteBroker(id, now),
  }
}

/** `writer`, when given, commits the inserts off the main thread (see createSqliteCredentialWriter); reads stay on `db`. */
export function createSqliteCredentials(db: SqliteDatabase, writer?: SqliteCredentialWriter): CredentialStore {
  const insert = db.prepare(`INSERT INTO credentials (jti, broker, client_id, username, issued_at, expires_at, source, issued_by)
    VALUES (@jti, @broker, @clientId, @username, @issuedAt, @expiresAt, @source, @issuedBy)`)
  const get = db.prepare('SELECT * FROM credentials WHERE broker = ? AND jti = ?')
  const insertAll = db.transaction((list: readonly Credential[]) => { for (const c of list) insert.run(c) })
  const liveWhere = `c.broker = @broker AND (c.expires_at IS NULL OR c.expires_at > @now) AND (@source IS NULL OR c.source = @source)
    AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.broker = c.broker AND r.jti = c.jti)`
  const countLive = db.prepare(`SELECT count(*) AS n FROM credentials c WHERE ${liveWhere}`)
  const prune = db.prepare('DELETE FROM credentials WHERE expires_at IS NOT NULL AND expires_at < ?')
  const nthExpiry = db.prepare(`SELECT c.expires_at FROM credentials c WHERE ${liveWhere} AND c.expires_at IS NOT NULL
    ORDER BY c.expires_at LIMIT 1 OFFSET @offset`)
  const issuedTo = db.prepare(`SELECT * FROM credentials WHERE issued_by = ? AND source = 'exchange' AND issued_at < ?
    AND (expires_at IS NULL OR expires_at > ?) ORDER BY broker, jti`)

  return {
    async insertMany(list) {
      try {
        if (writer) await writer.insertMany(list)
        else insertAll.immediate(list)
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict('a credential with that jti already exists')
        if (isForeignKeyViolation(err)) throw new NotFound(`no broker "${[...new Set(list.map((c) => c.broker))].join('", "')}"`)
        throw err
      }
    },
    async prune(before) { return prune.run(before).changes },
    async countLive(broker, now, source) {
      return (countLive.get({ broker, now, source: source ?? null }) as { n: number }).n
    },
    async nthLiveExpiry(broker, now, n, source) {
      const row = nthExpiry.get({ broker, now, source: source ?? null, offset: Math.max(0, n - 1) }) as { expires_at: number } | undefined
      return row?.expires_at ?? null
    },
    async get(broker, jti) {
      const r = get.get(broker, jti) as CredentialRow | undefined
      return r && toCredential(r)
    },
    async liveIssuedTo(issuedBy, issuedBefore, now) {
      return (issuedTo.all(issuedBy, issuedBefore, now) as CredentialRow[]).map(toCredential)
    },
    search: createSqliteCredentialSearch(db),
  }
}
