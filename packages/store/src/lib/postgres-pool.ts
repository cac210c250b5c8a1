import pg from 'pg'
import { POSTGRES_MIGRATIONS } from './postgres-schema.js'
import { isServerAway, whileServerAway } from './retrying-pool.js'
import type { RetryingPool } from './retrying-pool.js'

export type PgClient = pg.PoolClient

/** What the store's modules use of the pool: statements and connections that wait out a server restart (RetryingPool). */
export interface PgPool {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
  connect(): Promise<PgClient>
  /** How long work waits for the server to come back, ms. */
  readonly retryForMs: number
}

/** The store modules' view of a RetryingPool. */
export function poolOf(pool: RetryingPool, retryForMs: number): PgPool {
  return { query: (text, values) => pool.queryWhenUp(text, values), connect: () => pool.connectWhenUp(), retryForMs }
}

// BIGINT columns hold epoch seconds and revisions: safe integers, so read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

/** Any constant works; it only has to be the same for every instance. */
const MIGRATION_LOCK = 0x6d716f69 // "mqoi"

/**
 * Runs `fn` in one transaction on one connection; rolls back on any error.
 * When the server goes away before COMMIT was sent, nothing was committed:
 * the whole transaction runs again once the server is back (so `fn` must
 * only talk to the database). A COMMIT whose answer was lost is not retried.
 */
export async function inTransaction<T>(pool: PgPool, fn: (client: PgClient) => Promise<T>): Promise<T> {
  let committing = false
  return whileServerAway(pool.retryForMs, async () => {
    committing = false
    const client = await pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      committing = true
      await client.query('COMMIT')
      return result
    } catch (err) {
      broken = isServerAway(err)
      if (!broken) await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release(broken ? true : undefined)
    }
  }, (err) => isServerAway(err) && !committing)
}

/** Applies pending migrations; safe when several instances start at once. */
export async function migratePostgres(pool: PgPool): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map((r) => r.version))
    for (const [index, sql] of POSTGRES_MIGRATIONS.entries()) {
      const version = index + 1
      if (applied.has(version)) continue
      await client.query('BEGIN')
      try {
        await client.query(sql)
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Math.floor(Date.now() / 1000)])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    client.release()
  }
}

/** True when `err` is a PostgreSQL unique violation (23505). */
export function isPgUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505'
}

/** True when `err` is a PostgreSQL foreign-key violation (23503). */
export function isPgForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23503'
}
