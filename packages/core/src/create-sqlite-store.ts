import { createSqliteAccounts } from './lib/sqlite-accounts.js'
import { createSqliteBrokers, createSqliteCredentials } from './lib/sqlite-brokers.js'
import { createSqliteOAuthClients } from './lib/sqlite-oauth-clients.js'
import { createSqliteOidcRecords } from './lib/sqlite-oidc-records.js'
import { openSqlite } from './lib/sqlite-open.js'
import { createSqliteRevocations } from './lib/sqlite-revocations.js'
import { createSqliteSigningKeys } from './lib/sqlite-signing-keys.js'
import { createInProcessLock } from './lib/in-process-lock.js'
import type { Store } from './store.js'

/**
 * The embedded Store: one SQLite file (created mode 0600, WAL,
 * synchronous=FULL), migrated on open.
 *
 * @example const store = createSqliteStore('.data/exchange.sqlite')
 */
export function createSqliteStore(path: string): Store {
  const db = openSqlite(path)
  return {
    oidc: createSqliteOidcRecords(db),
    accounts: createSqliteAccounts(db),
    brokers: createSqliteBrokers(db),
    credentials: createSqliteCredentials(db),
    revocations: createSqliteRevocations(db),
    keys: createSqliteSigningKeys(db),
    oauthClients: createSqliteOAuthClients(db),
    withLock: createInProcessLock(),
    async close() { if (db.open) db.close() },
  }
}
