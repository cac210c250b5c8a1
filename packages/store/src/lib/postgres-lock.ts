import pg from 'pg'
import { createInProcessLock } from './in-process-lock.js'

/**
 * Named locks across every process on one PostgreSQL database: a session
 * advisory lock (`pg_advisory_lock(hashtext(name))`), held on a connection of
 * its own rather than a pooled one, so holders waiting for the lock never
 * starve `fn` of pool connections. Holders in this process queue first, so a
 * process opens at most one lock connection per name at a time. The lock
 * goes with the connection: a crashed holder never blocks the others.
 */
export function createPostgresLock(connectionString: string): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  const local = createInProcessLock()
  return <T>(name: string, fn: () => Promise<T>) => local(name, async () => {
    const client = new pg.Client({ connectionString })
    client.on('error', () => {})
    await client.connect()
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`mqtt-oidc:${name}`])
      return await fn()
    } finally {
      await client.end().catch(() => {})
    }
  })
}
