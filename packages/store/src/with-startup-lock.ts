import { createPostgresLock } from './lib/postgres-lock.js'

/**
 * Runs `fn` while holding a PostgreSQL advisory lock named `name`, so that
 * instances starting together on one shared store take turns at what must
 * happen once (the first instance creates the signing keys; the next ones
 * load them). Without a postgres:// URL (the embedded SQLite store, one
 * process) it just runs `fn`. The lock goes with the session, so a crashed
 * holder never blocks the others.
 *
 * @example const { port } = await withStartupLock(config.store, 'idp-keys', () => idp.listen())
 */
export async function withStartupLock<T>(url: string | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (!url || !/^postgres(ql)?:\/\//.test(url)) return fn()
  return createPostgresLock(url)(name, fn)
}
