import { Conflict, NotFound } from '@mqtt-oidc/core'
import type { Broker, BrokerStore, Credential, CredentialStore, RevocationChange, RevocationEvent, RevocationStore } from '@mqtt-oidc/core'
import { BROKER_COLUMNS, brokerValues, toBroker, toFeedCredential, type BrokerRow } from './broker-rows.js'
import { REVOCATION_CHANNEL, type PostgresNotifications } from './postgres-notifications.js'
import { inTransaction, isPgForeignKeyViolation, isPgUniqueViolation, type PgClient, type PgPool } from './postgres-pool.js'
import { createPostgresCredentialSearch } from './postgres-credential-search.js'
import { toCredential, type CredentialRow } from './credential-rows.js'

const fromRow = (r: BrokerRow<unknown>): Broker => toBroker(r, (parsed) => parsed)

/** `revocations` deletes a broker: its live credentials are revoked in the same transaction. */
export function createPostgresBrokers(pool: PgPool, revocations: Pick<PostgresRevocations, 'deleteBroker'>): BrokerStore {
  const get = async (id: string): Promise<Broker | undefined> => {
    const { rows } = await pool.query<BrokerRow<unknown>>('SELECT * FROM brokers WHERE id = $1', [id])
    return rows[0] && fromRow(rows[0])
  }
  // Every column but the id and the creation time, from the same values.
  const updatable = BROKER_COLUMNS.map((c, i) => [c, i] as const).filter(([c]) => c !== 'id' && c !== 'created_at')
  return {
    async create(b) {
      await pool.query(`INSERT INTO brokers (${BROKER_COLUMNS.join(', ')}) VALUES (${BROKER_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, brokerValues(b))
        .catch((err: unknown) => { throw isPgUniqueViolation(err) ? new Conflict(`broker "${b.id}" already exists`) : err })
    },
    get,
    async list() { return (await pool.query<BrokerRow<unknown>>('SELECT * FROM brokers ORDER BY id')).rows.map(fromRow) },
    async update(id, patch) {
      const current = await get(id)
      if (!current) throw new NotFound(`no broker "${id}"`)
      const next: Broker = { ...current, ...patch, id, createdAt: current.createdAt }
      const values = brokerValues(next)
      await pool.query(`UPDATE brokers SET ${updatable.map(([c], n) => `${c} = $${n + 2}`).join(', ')} WHERE id = $1`,
        [id, ...updatable.map(([, i]) => values[i])])
      return next
    },
    async setFeedCredential(id, credential) {
      const { rowCount } = await pool.query('UPDATE brokers SET feed_credential_sha256 = $2, feed_credential_issued_at = $3 WHERE id = $1',
        [id, credential.sha256, credential.issuedAt])
      if (rowCount === 0) throw new NotFound(`no broker "${id}"`)
    },
    async feedCredential(id) {
      const { rows } = await pool.query<Parameters<typeof toFeedCredential>[0]>(
        'SELECT feed_credential_sha256, feed_credential_issued_at FROM brokers WHERE id = $1', [id])
      return rows[0] && toFeedCredential(rows[0])
    },
    delete: (id, now) => revocations.deleteBroker(id, now),
  }
}

export function createPostgresCredentials(pool: PgPool): CredentialStore {
  return {
    async insertMany(list: readonly Credential[]) {
      if (list.length === 0) return
      const cols = 8
      const values = list.map((_, i) => `(${Array.from({ length: cols }, (_x, j) => `$${i * cols + j + 1}`).join(', ')})`).join(', ')
      const params = list.flatMap((c) => [c.jti, c.broker, c.clientId, c.username, c.issuedAt, c.expiresAt, c.source, c.issuedBy])
      // One statement: all rows or none.
      // The foreign key takes a share lock on the broker row, so a concurrent deletion
      // (which locks it first) either sees these rows and revokes them, or makes this fail.
      await pool.query(`INSERT INTO credentials (jti, broker, client_id, username, issued_at, expires_at, source, issued_by) VALUES ${values}`, params)
        .catch((err: unknown) => {
          if (isPgUniqueViolation(err)) throw new Conflict('a credential with that jti already exists')
          if (isPgForeignKeyViolation(err)) throw new NotFound(`no broker "${[...new Set(list.map((c) => c.broker))].join('", "')}"`)
          throw err
        })
    },
    async get(broker, jti) {
      const { rows } = await pool.query<CredentialRow>('SELECT * FROM credentials WHERE broker = $1 AND jti = $2', [broker, jti])
      return rows[0] && toCredential(rows[0])
    },
    async liveIssuedTo(issuedBy, issuedBefore, now) {
      const { rows } = await pool.query<CredentialRow>(`SELECT * FROM credentials WHERE issued_by = $1 AND source = 'exchange' AND issued_at < $2
        AND (expires_at IS NULL OR expires_at > $3) ORDER BY broker, jti`, [issuedBy, issuedBefore, now])
      return rows.map(toCredential)
    },
    search: createPostgresCredentialSearch(pool),
    async prune(before) {
      return (await pool.query('DELETE FROM credentials WHERE expires_at IS NOT NULL AND expires_at < $1', [before])).rowCount ?? 0
    },
    async countLive(broker, now, source) {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM credentials c WHERE ${LIVE}`, [broker, now, source ?? null])
      return rows[0]?.n ?? 0
    },
    async nthLiveExpiry(broker, now, n, source) {
      const { rows } = await pool.query<{ expires_at: number }>(
        `SELECT c.expires_at FROM credentials c WHERE ${LIVE} AND c.expires_at IS NOT NULL ORDER BY c.expires_at LIMIT 1 OFFSET $4`,
        [broker, now, source ?? null, Math.max(0, n - 1)])
      return rows[0]?.expires_at ?? null
    },
  }
}

/** Credentials of broker $1 live at $2 (not expired, not revoked), of source $3 unless it is null. */
const LIVE = `c.broker = $1 AND (c.expires_at IS NULL OR c.expires_at > $2) AND ($3::text IS NULL OR c.source = $3)
  AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.broker = c.broker AND r.jti = c.jti)`

/** Locks the broker's revision row (creating it) so concurrent changes serialise per broker. */
async function lockRevision(client: PgClient, broker: string): Promise<number> {
  const exists = await client.query('SELECT 1 FROM brokers WHERE id = $1', [broker])
  if (exists.rowCount === 0) throw new NotFound(`no broker "${broker}"`)
  await client.query('INSERT INTO broker_revisions (broker, revision) VALUES ($1, 0) ON CONFLICT (broker) DO NOTHING', [broker])
  const { rows } = await client.query<{ revision: number }>('SELECT revision FROM broker_revisions WHERE broker = $1 FOR UPDATE', [broker])
  return rows[0]?.revision ?? 0
}

interface EventRow { revision: number; broker: string; jti: string; action: 'revoke' | 'unrevoke'; expires_at: number | null; at: number }

/** The revocation store plus what the broker store needs to delete a broker (kept off the public Store). */
export interface PostgresRevocations extends RevocationStore {
  /** See `BrokerStore.delete`. */
  deleteBroker(id: string, now: number): Promise<RevocationChange>
}

/**
 * Deletes broker `id` inside the caller's transaction: locks its row (new
 * credentials for it wait, then fail), revokes every live credential as one
 * change, then removes the row (its credential records cascade; revocations,
 * events and the revision counter stay).
 */
async function deleteBrokerIn(client: PgClient, id: string, now: number): Promise<RevocationChange> {
  const locked = await client.query('SELECT 1 FROM brokers WHERE id = $1 FOR UPDATE', [id])
  if (locked.rowCount === 0) throw new NotFound(`no broker "${id}"`)
  const base = await lockRevision(client, id)
  const { rows } = await client.query<{ jti: string; expires_at: number | null }>(
    `SELECT c.jti, c.expires_at FROM credentials c WHERE ${LIVE} ORDER BY c.jti COLLATE "C"`, [id, now, null])
  const jtis = rows.map((r) => r.jti)
  const expiries = rows.map((r) => r.expires_at)
  if (rows.length > 0) {
    await client.query(`INSERT INTO revocations (broker, jti, revoked_at, expires_at)
      SELECT $1, t.jti, $2, t.exp FROM unnest($3::text[], $4::bigint[]) AS t(jti, exp)`, [id, now, jtis, expiries])
    await client.query(`INSERT INTO revocation_events (broker, revision, jti, action, expires_at, at)
      SELECT $1, $5 + t.n, t.jti, 'revoke', t.exp, $2 FROM unnest($3::text[], $4::bigint[]) WITH ORDINALITY AS t(jti, exp, n)`,
    [id, now, jtis, expiries, base])
    await client.query('UPDATE broker_revisions SET revision = $2 WHERE broker = $1', [id, base + rows.length])
    await client.query('SELECT pg_notify($1, $2)', [REVOCATION_CHANNEL, id])
  }
  await client.query('DELETE FROM brokers WHERE id = $1', [id])
  return { revision: base + rows.length, changed: jtis }
}

export function createPostgresRevocations(pool: PgPool, notifications: PostgresNotifications): PostgresRevocations {
  const change = (action: 'revoke' | 'unrevoke') => (broker: string, jtis: readonly string[], now: number): Promise<RevocationChange> =>
    inTransaction(pool, async (client) => {
      let revision = await lockRevision(client, broker)
      const unique = [...new Set(jtis)]
      const { rows: issued } = await client.query<{ jti: string; expires_at: number | null }>(
        'SELECT jti, expires_at FROM credentials WHERE broker = $1 AND jti = ANY($2)', [broker, unique])
      const expiries = new Map(issued.map((r) => [r.jti, r.expires_at]))
      if (action === 'revoke') {
        const unknown = unique.filter((j) => !expiries.has(j))
        if (unknown.length > 0) throw new NotFound(`no credential issued for broker "${broker}" with jti ${unknown.join(', ')}`)
      }
      const changed: string[] = []
      for (const jti of unique) {
        const expiresAt = expiries.get(jti) ?? null
        const result = action === 'revoke'
          ? await client.query('INSERT INTO revocations (broker, jti, revoked_at, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [broker, jti, now, expiresAt])
          : await client.query('DELETE FROM revocations WHERE broker = $1 AND jti = $2', [broker, jti])
        if ((result.rowCount ?? 0) === 0) continue
        revision += 1
        await client.query('INSERT INTO revocation_events (broker, revision, jti, action, expires_at, at) VALUES ($1, $2, $3, $4, $5, $6)',
          [broker, revision, jti, action, expiresAt, now])
        changed.push(jti)
      }
      await client.query('UPDATE broker_revisions SET revision = $2 WHERE broker = $1', [broker, revision])
      // Delivered to every listening instance when (and only if) this transaction commits.
      if (changed.length > 0) await client.query('SELECT pg_notify($1, $2)', [REVOCATION_CHANNEL, broker])
      return { revision, changed }
    })

  return {
    revoke: change('revoke'),
    unrevoke: change('unrevoke'),
    async list(broker) {
      const { rows } = await pool.query<{ broker: string; jti: string; revoked_at: number; expires_at: number | null }>(
        'SELECT * FROM revocations WHERE broker = $1 ORDER BY revoked_at, jti', [broker])
      return rows.map((r) => ({ broker: r.broker, jti: r.jti, revokedAt: r.revoked_at, expiresAt: r.expires_at }))
    },
    async isRevoked(broker, jti) {
      return ((await pool.query('SELECT 1 FROM revocations WHERE broker = $1 AND jti = $2', [broker, jti])).rowCount ?? 0) > 0
    },
    async revision(broker) {
      const { rows } = await pool.query<{ revision: number }>('SELECT revision FROM broker_revisions WHERE broker = $1', [broker])
      return rows[0]?.revision ?? 0
    },
    async eventsSince(broker, since, limit = 10_000): Promise<RevocationEvent[]> {
      const { rows } = await pool.query<EventRow>(
        'SELECT * FROM revocation_events WHERE broker = $1 AND revision > $2 ORDER BY revision LIMIT $3', [broker, since, limit])
      return rows.map((r) => ({ revision: r.revision, broker: r.broker, jti: r.jti, action: r.action, expiresAt: r.expires_at, at: r.at }))
    },
    async prune(now) {
      return inTransaction(pool, async (client) => {
        await client.query('DELETE FROM revocation_events WHERE expires_at IS NOT NULL AND expires_at < $1', [now])
        return (await client.query('DELETE FROM revocations WHERE expires_at IS NOT NULL AND expires_at < $1', [now])).rowCount ?? 0
      })
    },
    deleteBroker: (id, now) => inTransaction(pool, (client) => deleteBrokerIn(client, id, now)),
    watch: (listener) => notifications.watch(listener),
  }
}
