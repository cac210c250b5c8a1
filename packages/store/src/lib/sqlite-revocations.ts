import { NotFound } from '@mqtt-oidc/core'
import type { Revocation, RevocationChange, RevocationEvent, RevocationStore } from '@mqtt-oidc/core'
import type { SqliteDatabase } from './sqlite-open.js'

interface RevocationRow { broker: string; jti: string; revoked_at: number; expires_at: number | null }
interface EventRow { revision: number; broker: string; jti: string; action: 'revoke' | 'unrevoke'; expires_at: number | null; at: number }

/** The revocation store plus what the broker store needs to delete a broker (kept off the public Store). */
export interface SqliteRevocations extends RevocationStore {
  /** See `BrokerStore.delete`. */
  deleteBroker(id: string, now: number): Promise<RevocationChange>
}

/**
 * Revocations with a per-broker revision. Every change appends an event
 * (the feed brokers follow) and bumps the revision, in one transaction.
 * Revocations, events and revisions outlive the broker record (no cascade),
 * so a revision never goes back.
 */
export function createSqliteRevocations(db: SqliteDatabase): SqliteRevocations {
  const credential = db.prepare('SELECT expires_at FROM credentials WHERE broker = ? AND jti = ?')
  const brokerExists = db.prepare('SELECT 1 FROM brokers WHERE id = ?')
  const current = db.prepare('SELECT 1 FROM revocations WHERE broker = ? AND jti = ?')
  const insert = db.prepare('INSERT INTO revocations (broker, jti, revoked_at, expires_at) VALUES (?, ?, ?, ?)')
  const remove = db.prepare('DELETE FROM revocations WHERE broker = ? AND jti = ?')
  const getRevision = db.prepare('SELECT revision FROM broker_revisions WHERE broker = ?')
  const setRevision = db.prepare(`INSERT INTO broker_revisions (broker, revision) VALUES (?, ?)
    ON CONFLICT (broker) DO UPDATE SET revision = excluded.revision`)
  const addEvent = db.prepare('INSERT INTO revocation_events (broker, revision, jti, action, expires_at, at) VALUES (?, ?, ?, ?, ?, ?)')
  const list = db.prepare('SELECT * FROM revocations WHERE broker = ? ORDER BY revoked_at, jti')
  const events = db.prepare('SELECT * FROM revocation_events WHERE broker = ? AND revision > ? ORDER BY revision LIMIT ?')
  const pruneRevocations = db.prepare('DELETE FROM revocations WHERE expires_at IS NOT NULL AND expires_at < ?')
  const pruneEvents = db.prepare('DELETE FROM revocation_events WHERE expires_at IS NOT NULL AND expires_at < ?')
  const live = db.prepare(`SELECT c.jti, c.expires_at FROM credentials c
    WHERE c.broker = ? AND (c.expires_at IS NULL OR c.expires_at > ?)
      AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.broker = c.broker AND r.jti = c.jti)
    ORDER BY c.jti`)
  // Cascades to the broker's credential records (their live ones were revoked just before).
  const deleteRecord = db.prepare('DELETE FROM brokers WHERE id = ?')

  const revisionOf = (broker: string): number => (getRevision.get(broker) as { revision: number } | undefined)?.revision ?? 0

  /** Revokes `entries` (none revoked yet) as one change; the caller holds the transaction. */
  const append = (broker: string, entries: ReadonlyArray<{ jti: string; expiresAt: number | null }>, now: number): RevocationChange => {
    let revision = revisionOf(broker)
    for (const { jti, expiresAt } of entries) {
      insert.run(broker, jti, now, expiresAt)
      revision += 1
      addEvent.run(broker, revision, jti, 'revoke', expiresAt, now)
    }
    setRevision.run(broker, revision)
    return { revision, changed: entries.map((e) => e.jti) }
  }

  const revoke = db.transaction((broker: string, jtis: readonly string[], now: number): RevocationChange => {
    if (!brokerExists.get(broker)) throw new NotFound(`no broker "${broker}"`)
    const unique = [...new Set(jtis)]
    const expiries = new Map<string, number | null>()
    const unknown: string[] = []
    for (const jti of unique) {
      const row = credential.get(broker, jti) as { expires_at: number | null } | undefined
      if (row) expiries.set(jti, row.expires_at)
      else unknown.push(jti)
    }
    if (unknown.length > 0) throw new NotFound(`no credential issued for broker "${broker}" with jti ${unknown.join(', ')}`)
    return append(broker, unique.filter((jti) => !current.get(broker, jti)).map((jti) => ({ jti, expiresAt: expiries.get(jti) ?? null })), now)
  })

  const unrevoke = db.transaction((broker: string, jtis: readonly string[], now: number): RevocationChange => {
    if (!brokerExists.get(broker)) throw new NotFound(`no broker "${broker}"`)
    let revision = revisionOf(broker)
    const changed: string[] = []
    for (const jti of new Set(jtis)) {
      if (remove.run(broker, jti).changes === 0) continue
      const row = credential.get(broker, jti) as { expires_at: number | null } | undefined
      revision += 1
      addEvent.run(broker, revision, jti, 'unrevoke', row?.expires_at ?? null, now)
      changed.push(jti)
    }
    setRevision.run(broker, revision)
    return { revision, changed }
  })

  const deleteBroker = db.transaction((id: string, now: number): RevocationChange => {
    if (!brokerExists.get(id)) throw new NotFound(`no broker "${id}"`)
    const rows = live.all(id, now) as Array<{ jti: string; expires_at: number | null }>
    const change = append(id, rows.map((r) => ({ jti: r.jti, expiresAt: r.expires_at })), now)
    deleteRecord.run(id)
    return change
  })

  const prune = db.transaction((now: number): number => {
    pruneEvents.run(now)
    return pruneRevocations.run(now).changes
  })

  const listeners = new Set<(broker: string) => void>()
  const notify = (broker: string, change: RevocationChange): RevocationChange => {
    if (change.changed.length > 0) for (const listener of listeners) listener(broker)
    return change
  }

  return {
    async revoke(broker, jtis, now) { return notify(broker, revoke.immediate(broker, jtis, now)) },
    async unrevoke(broker, jtis, now) { return notify(broker, unrevoke.immediate(broker, jtis, now)) },
    async deleteBroker(id, now) { return notify(id, deleteBroker.immediate(id, now)) },
    async list(broker): Promise<Revocation[]> {
      return (list.all(broker) as RevocationRow[]).map((r) => ({ broker: r.broker, jti: r.jti, revokedAt: r.revoked_at, expiresAt: r.expires_at }))
    },
    async isRevoked(broker, jti) { return current.get(broker, jti) !== undefined },
    async revision(broker) { return revisionOf(broker) },
    async eventsSince(broker, since, limit = 10_000): Promise<RevocationEvent[]> {
      return (events.all(broker, since, limit) as EventRow[]).map((r) => ({
        revision: r.revision, broker: r.broker, jti: r.jti, action: r.action, expiresAt: r.expires_at, at: r.at,
      }))
    },
    async prune(now) { return prune.immediate(now) },
    watch(listener) {
      listeners.add(listener)
      return { ready: Promise.resolve(), stop: () => { listeners.delete(listener) } }
    },
  }
}
