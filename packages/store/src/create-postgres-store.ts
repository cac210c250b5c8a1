import { createPostgresBrokers, createPostgresCredentials, createPostgresRevocations } from './lib/postgres-brokers.js'
import { createPostgresAccounts, createPostgresOidcRecords, createPostgresSigningKeys } from './lib/postgres-identity.js'
import { createPostgresOAuthClients } from './lib/postgres-oauth-clients.js'
import { createPostgresNotifications, SESSION_CHANNEL } from './lib/postgres-notifications.js'
import { createPostgresSessionReports } from './lib/postgres-session-reports.js'
import { migratePostgres, poolOf } from './lib/postgres-pool.js'
import { DEFAULT_RETRY_FOR_MS, RetryingPool } from './lib/retrying-pool.js'
import { createPostgresLock } from './lib/postgres-lock.js'
import { createPostgresClientIds } from './lib/postgres-client-ids.js'
import { createPostgresCutoffs } from './lib/postgres-cutoffs.js'
import type { Store } from '@mqtt-oidc/core'

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly connectionString: string
  /** Pool size. Default 10. */
  readonly max?: number
  /**
   * How long a request waits for the server to come back (a restart, a fail-over) before it fails, ms.
   * Statements that certainly did not take effect, reads and whole transactions not yet committing are
   * run again. Default 15000.
   */
  readonly retryForMs?: number
}

/**
 * The Store on PostgreSQL, for several instances sharing state. Connects,
 * runs pending migrations (once, even when instances start together), and
 * resolves when ready.
 *
 * @example const store = await createPostgresStore({ connectionString: 'postgres://localhost/mqtt_oidc' })
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const retryForMs = options.retryForMs ?? DEFAULT_RETRY_FOR_MS
  const pg = new RetryingPool({ connectionString: options.connectionString, max: options.max ?? 10 }, retryForMs)
  const pool = poolOf(pg, retryForMs)
  try {
    await migratePostgres(pool)
  } catch (err) {
    await pg.end()
    throw err
  }
  const notifications = createPostgresNotifications(options.connectionString)
  const revocations = createPostgresRevocations(pool, notifications)
  // Its own LISTEN connection, opened only when something watches sessions (a console).
  const sessionNotifications = createPostgresNotifications(options.connectionString, SESSION_CHANNEL)
  return {
    oidc: createPostgresOidcRecords(pool),
    accounts: createPostgresAccounts(pool),
    brokers: createPostgresBrokers(pool, revocations),
    credentials: createPostgresCredentials(pool),
    revocations,
    keys: createPostgresSigningKeys(pool),
    clientIds: createPostgresClientIds(pool),
    cutoffs: createPostgresCutoffs(pool),
    oauthClients: createPostgresOAuthClients(pool),
    sessions: createPostgresSessionReports(pool, sessionNotifications),
    withLock: createPostgresLock(options.connectionString),
    async ping() {
      await pool.query('SELECT 1')
    },
    async close() {
      await notifications.close()
      await sessionNotifications.close()
      await pg.end()
    },
  }
}
