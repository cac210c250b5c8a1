import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createSqliteStore, type Store } from '@mqtt-oidc/core'
import { CliError } from '../lib/cli-error.js'

/**
 * Opens the embedded IdP's database, `<data-dir>/idp.sqlite`, directly.
 * Accounts and signing keys have no HTTP admin API: they are the IdP
 * operator's business, and whoever may read the data dir already holds the
 * admin secret and every key. SQLite (WAL, busy timeout) lets this process
 * and a running IdP share the file; the IdP reads accounts per request, so
 * account changes apply at once (signing keys at the IdP's next start).
 */
export function openIdpStore(dataDir: string): Store {
  const path = join(dataDir, 'idp.sqlite')
  if (!existsSync(path)) throw new CliError(`no IdP database at ${path}: run \`pnpm start\` once, or pass --data-dir`)
  return createSqliteStore(path)
}

/** Runs `work` with the store open, closing it whatever happens. */
export async function withIdpStore<T>(dataDir: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = openIdpStore(dataDir)
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}
