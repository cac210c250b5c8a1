import { join } from 'node:path'
import { createPostgresStore } from './create-postgres-store.js'
import { createSqliteStore } from './create-sqlite-store.js'
import { InvalidRequest } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'

/**
 * Opens the store an app is configured with: a `postgres://` or
 * `postgresql://` URL selects PostgreSQL (shared by several instances);
 * anything unset selects the embedded SQLite file `<dataDir>/<file>`.
 *
 * @example const store = await openStore({ url: config.store, dataDir: config.dataDir, file: 'exchange.sqlite' })
 */
export async function openStore(options: { url?: string | undefined; dataDir: string; file: string }): Promise<Store> {
  const url = options.url?.trim()
  if (!url) return createSqliteStore(join(options.dataDir, options.file))
  if (/^postgres(ql)?:\/\//.test(url)) return createPostgresStore({ connectionString: url })
  throw new InvalidRequest('the store must be a postgres:// URL, or unset for the embedded SQLite store')
}
