import { createSqliteAccounts } from './lib/sqlite-accounts.js'
import { createSqliteBrokers, createSqliteCredentials } from './lib/sqlite-brokers.js'
import { createSqliteOAuthClients } from './lib/sqlite-oauth-clients.js'
import { createSqliteOidcRecords } from './lib/sqlite-oidc-records.js'
import { openSqlite } from './lib/sqlite-open.js'
import { createSqliteCredentialWriter } from './lib/sqlite-credential-writer.js'
import { createSqliteRevocations } from './lib/sqlite-revocations.js'
import { createSqliteSigningKeys } from './lib/sqlite-signing-keys.js'
import { createInProcessLock } from './lib/in-process-lock.js'
import { createSqliteClientIds } from './lib/sqlite-client-ids.js'
import { createSqliteCutoffs } from './lib/sqlite-cutoffs.js'
import { createSqliteSessionReports } from './lib/sqlite-session-reports.js'
import type { Store } from '@mqtt-oidc/core'

/**
 * The embedded Store: one SQLite file (created mode 0600, WAL,
 * synchronous=FULL), migrated on open. Credential records, one per issued
 * token, are committed by a worker thread so their fsync never stops the
 * event loop; everything else is written on the calling thread.
 *
 * @example const store = createSqliteStore('.data/exchange.sqlite')
 */
export function createSqliteStore(path: string): Store {
  const db = openSqlite(path)
  const revocations = createSqliteRevocations(db)
  // An in-memory database cannot be shared with a second connection: it writes on this thread.
  const writer = path === ':memory:' ? undefined : createSqliteCredentialWriter(path)
  return {
    oidc: createSqliteOidcRecords(db),
    accounts: createSqliteAccounts(db),
    brokers: createSqliteBrokers(db, revocations),
    credentials: createSqliteCredentials(db, writer),
    revocations,
    keys: createSqliteSigningKeys(db),
    clientIds: createSqliteClientIds(db),
    cutoffs: createSqliteCutoffs(db),
    oauthClients: createSqliteOAuthClients(db),
    sessions: createSqliteSessionReports(db),
    withLock: createInProcessLock(),
    async ping() {
      db.prepare('SELECT 1').get()
    },
    async close() {
      await writer?.close()
      if (db.open) db.close()
    },
  }
}
