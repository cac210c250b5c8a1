import pg from 'pg'
import { createPostgresBrokers, createPostgresCredentials, createPostgresRevocations } from './lib/postgres-brokers.js'
import { createPostgresAccounts, createPostgresOidcRecords, createPostgresSigningKeys } from './lib/postgres-identity.js'
import { createPostgresOAuthClients } from './lib/postgres-oauth-clients.js'
import { createPostgresNotifications, SESSION_CHANNEL } from './lib/postgres-notifications.js'
import { createPostgresSessionReports } from './lib/postgres-session-reports.js'
import { migratePostgres } from './lib/postgres-pool.js'
import { createPostgresLock } from './lib/postgres-lock.js'
import { createPostgresClientIds } from './lib/postgres-client-ids.js'
import { createPostgresCutoffs } from './lib/postgres-cutoffs.js'
import type { Store } from './store.js'

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly connectionString: string
  /** Pool size. Default 10. */
  readonly max?: number
}

/**
 * The Store on PostgreSQL, for several instances sharing state. Connects,
 * runs pending migrations (once, even when instances start together), and
 * resolves when ready.
 *
 * @example const store = await createPostgresStore({ connectionString: 'postgres://localhost/mqtt_oidc' })
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 })
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {})
  try {
    await migratePostgres(pool)
  } catch (err) {
    await pool.end()
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
    async close() {
      await notifications.close()
      await sessionNotifications.close()
      await pool.end()
    },
  }
}
