import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../src/create-postgres-store.js'
import { POSTGRES_MIGRATIONS } from '../src/lib/postgres-schema.js'
import { RetryingPool, isServerAway } from '../src/lib/retrying-pool.js'
import { startPostgres, type TestPostgres } from '@mqtt-oidc/test-support/start-postgres'
import { describeStoreContract } from './support/store-contract.js'
import { LEGACY_BROKERS, LEGACY_KEYS, expectLegacyRecordsMigrated, legacyRecords } from './support/legacy-records.js'
import { describeConsoleStoreContract } from './support/console-store-contract.js'

// A real PostgreSQL (Debian's server, a fresh cluster in a temp dir); a new
// database per test.
let server: TestPostgres
beforeAll(async () => { server = await startPostgres() }, 60_000)
afterAll(async () => { await server?.stop() })

describeStoreContract('PostgreSQL', async () => createPostgresStore({ connectionString: await server.createDatabase() }))
describeConsoleStoreContract('PostgreSQL', async () => createPostgresStore({ connectionString: await server.createDatabase() }))

describe('PostgreSQL store migrations', () => {
  it('migrate once when several instances start at the same time, and keep data on reopen', async () => {
    const url = await server.createDatabase()
    const stores = await Promise.all([1, 2, 3, 4].map(() => createPostgresStore({ connectionString: url, max: 2 })))
    const now = Math.floor(Date.now() / 1000)
    await stores[0]!.brokers.create({ id: 'demo', expiration: 60, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    expect((await stores[3]!.brokers.get('demo'))?.expiration).toBe(60)
    await Promise.all(stores.map((s) => s.close()))
    const again = await createPostgresStore({ connectionString: url })
    expect((await again.brokers.list()).map((b) => b.id)).toEqual(['demo'])
    await again.close()
  })

  it('serialises concurrent revocations per broker: every change gets its own revision', async () => {
    const url = await server.createDatabase()
    const [a, b] = await Promise.all([createPostgresStore({ connectionString: url }), createPostgresStore({ connectionString: url })])
    const now = Math.floor(Date.now() / 1000)
    await a!.brokers.create({ id: 'demo', expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    const jtis = Array.from({ length: 20 }, (_, i) => `j${i}`)
    await a!.credentials.insertMany(jtis.map((jti) => ({ jti, broker: 'demo', clientId: jti, username: null, issuedAt: now, expiresAt: null, source: 'admin' as const, issuedBy: 't' })))
    await Promise.all(jtis.map((jti, i) => (i % 2 ? a! : b!).revocations.revoke('demo', [jti], now)))
    const events = await a!.revocations.eventsSince('demo', 0)
    expect(events.map((e) => e.revision)).toEqual(jtis.map((_, i) => i + 1))
    expect(await b!.revocations.revision('demo')).toBe(20)
    await Promise.all([a!.close(), b!.close()])
  })

  it('locks across instances: a read-modify-write under withLock never interleaves with another instance\'s', async () => {
    const url = await server.createDatabase()
    const [a, b] = await Promise.all([createPostgresStore({ connectionString: url, max: 2 }), createPostgresStore({ connectionString: url, max: 2 })])
    await a!.oidc.upsert('Counter', 'c', { n: 0 }, 0)
    // 20 increments, alternating between the instances, each a find then an upsert with a pause in between.
    const increment = (store: typeof a) => store!.withLock('counter', async () => {
      const n = Number((await store!.oidc.find('Counter', 'c'))?.n)
      await new Promise((resolve) => setTimeout(resolve, 2))
      await store!.oidc.upsert('Counter', 'c', { n: n + 1 }, 0)
    })
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? a : b)))
    expect((await a!.oidc.find('Counter', 'c'))?.n).toBe(20)
    await Promise.all([a!.close(), b!.close()])
  })

  it('notifies every instance sharing the database of a revocation, and resyncs after losing the channel', async () => {
    const url = await server.createDatabase()
    const a = await createPostgresStore({ connectionString: url })
    const b = await createPostgresStore({ connectionString: url })
    const now = Math.floor(Date.now() / 1000)
    await a.brokers.create({ id: 'demo', expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    await a.credentials.insertMany(['j1', 'j2'].map((jti) => ({ jti, broker: 'demo', clientId: jti, username: null, issuedAt: now, expiresAt: null, source: 'admin' as const, issuedBy: 't' })))
    const calls: string[] = []
    let wake: () => void = () => {}
    const next = () => new Promise<void>((resolve) => { wake = resolve })
    const listening = b.revocations.watch((broker) => { calls.push(broker); wake() })
    await listening.ready
    calls.length = 0
    let woke = next()
    await a.revocations.revoke('demo', ['j2'], now)
    await woke
    expect(calls[0]).toBe('demo')

    // Kill b's LISTEN connection: it reconnects and says '*' (anything may have changed).
    woke = next()
    const pgClient = new pg.Client({ connectionString: url })
    await pgClient.connect()
    await pgClient.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
    await pgClient.end()
    await woke
    expect(calls).toContain('*')
    listening.stop()
    await Promise.all([a.close(), b.close()])
  })

  it('upgrades a database of the two first schema versions: its revocations stay, and from then on outlive a deleted broker', async () => {
    const now = Math.floor(Date.now() / 1000)
    const { url, old } = await databaseAtSchema(2, now)
    await old.query(`INSERT INTO brokers VALUES ('demo', NULL, '{"pub":["#"],"sub":["#"]}', NULL, $1, $1)`, [now])
    await old.query(`INSERT INTO credentials VALUES ('j1', 'demo', 'c1', NULL, $1, $2, 'admin', 'ops'), ('j2', 'demo', 'c2', NULL, $1, $2, 'admin', 'ops')`, [now, now + 3600])
    await old.query(`INSERT INTO revocations VALUES ('demo', 'j1', $1, $2)`, [now, now + 3600])
    await old.query(`INSERT INTO revocation_events VALUES ('demo', 1, 'j1', 'revoke', $2, $1)`, [now, now + 3600])
    await old.query(`INSERT INTO broker_revisions VALUES ('demo', 1)`)
    await old.end()

    const upgraded = await createPostgresStore({ connectionString: url })
    try {
      expect(await upgraded.revocations.list('demo')).toEqual([{ broker: 'demo', jti: 'j1', revokedAt: now, expiresAt: now + 3600 }])
      expect(await upgraded.brokers.delete('demo', now)).toEqual({ revision: 2, changed: ['j2'] })
      expect((await upgraded.revocations.list('demo')).map((r) => r.jti)).toEqual(['j1', 'j2'])
      expect((await upgraded.revocations.eventsSince('demo', 0)).map((e) => e.jti)).toEqual(['j1', 'j2'])
    } finally {
      await upgraded.close()
    }
  })

  it('never lets a credential recorded while its broker is deleted escape: it is revoked by the deletion, or refused', async () => {
    const url = await server.createDatabase()
    const [a, b] = await Promise.all([createPostgresStore({ connectionString: url }), createPostgresStore({ connectionString: url })])
    const now = Math.floor(Date.now() / 1000)
    await a!.brokers.create({ id: 'demo', expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    const inserts = Array.from({ length: 40 }, (_, i) => a!.credentials.insertMany([
      { jti: `k${String(i).padStart(2, '0')}`, broker: 'demo', clientId: `c${i}`, username: null, issuedAt: now, expiresAt: now + 60, source: 'exchange', issuedBy: 't' },
    ]).then(() => `k${String(i).padStart(2, '0')}`, (err: { code?: string }) => err.code))
    const deletion = b!.brokers.delete('demo', now)
    const results = await Promise.all(inserts)
    const change = await deletion
    expect(change.changed).toEqual(results.filter((r) => r?.startsWith('k')))
    expect(results.filter((r) => !r?.startsWith('k')).every((code) => code === 'ERR_NOT_FOUND')).toBe(true)
    await Promise.all([a!.close(), b!.close()])
  })

  it('migrates to client id owners: an id listed by one account is its own, one listed by several is a conflict owned by none', async () => {
    const now = Math.floor(Date.now() / 1000)
    const { url, old } = await databaseAtSchema(2, now)
    const insert = 'INSERT INTO accounts (id, username, password_hash, client_ids, groups, created_at) VALUES ($1, $2, \'h\', $3, \'[]\', $4)'
    await old.query(insert, ['demo', 'demo', JSON.stringify(['demo-1', 'shared-gw']), now - 100])
    await old.query(insert, ['mallory', 'mallory', JSON.stringify(['shared-gw', 'mallory-1']), now])
    await old.query("INSERT INTO oidc_records (model, id, payload, expires_at) VALUES ('ClientIdLease', 'demo', $1, $2)",
      [JSON.stringify({ grants: { g1: { clientId: 'demo-1', base: 'demo-1' }, g2: { clientId: 'demo-1-ABCDEFGHIJ', base: 'demo-1' } } }), now + 3600])
    await old.end()

    const migrated = await createPostgresStore({ connectionString: url })
    expect(await migrated.clientIds.conflicts()).toEqual([{ clientId: 'shared-gw', accountIds: ['demo', 'mallory'] }])
    expect((await migrated.clientIds.heldBy({ kind: 'account', accountId: 'demo' }, now)).map((h) => [h.clientId, h.source]).sort())
      .toEqual([['demo-1', 'configured'], ['demo-1-ABCDEFGHIJ', 'lease']])
    await expect(migrated.accounts.update('demo', { clientIds: ['demo-1', 'shared-gw', 'mallory-1'] })).rejects.toMatchObject({ code: 'ERR_CLIENT_ID_TAKEN', clientId: 'mallory-1' })
    await migrated.accounts.update('mallory', { clientIds: ['mallory-1'] })
    expect(await migrated.clientIds.holder('shared-gw', now)).toMatchObject({ owner: { kind: 'account', accountId: 'demo' }, source: 'configured' })
    await migrated.close()
  })

  it('moves broker policies, feed credentials, key usage and per-login leases out of oidc_records into typed columns and tables', async () => {
    const now = Math.floor(Date.now() / 1000)
    const { url, old } = await databaseAtSchema(5, now)
    for (const id of LEGACY_BROKERS) {
      await old.query(`INSERT INTO brokers (id, expiration, acl, url, created_at, updated_at) VALUES ($1, NULL, '{"pub":["#"],"sub":["#"]}', NULL, $2, $2)`, [id, now])
    }
    for (const kid of LEGACY_KEYS) await old.query(`INSERT INTO signing_keys VALUES ($1, 'EdDSA', 'exchange', '{"kty":"OKP"}', $2, NULL)`, [kid, now])
    for (const [model, id, payload, expiresAt] of legacyRecords(now)) {
      await old.query('INSERT INTO oidc_records (model, id, payload, expires_at) VALUES ($1, $2, $3, $4)', [model, id, JSON.stringify(payload), expiresAt])
    }
    await old.end()

    const migrated = await createPostgresStore({ connectionString: url })
    try {
      await expectLegacyRecordsMigrated(migrated, now)
      const check = new pg.Client({ connectionString: url })
      await check.connect()
      expect((await check.query("SELECT model FROM oidc_records WHERE model <> 'Session'")).rows).toEqual([])
      await check.end()
    } finally {
      await migrated.close()
    }
  })

  it('refuses one client id to two instances claiming it for different accounts at the same time', async () => {
    const url = await server.createDatabase()
    const [a, b] = await Promise.all([createPostgresStore({ connectionString: url }), createPostgresStore({ connectionString: url })])
    const now = Math.floor(Date.now() / 1000)
    const account = (id: string) => ({ id, username: id, passwordHash: 'h', clientIds: ['contested', `${id}-own`], groups: [], disabled: false, createdAt: now })
    const results = await Promise.allSettled([a.accounts.create(account('u1')), b.accounts.create(account('u2'))])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    const owner = (await a.clientIds.holder('contested', now))?.owner
    expect(owner?.kind === 'account' && (await a.accounts.findById(owner.accountId))?.clientIds).toContain('contested')
    expect((await a.accounts.list()).length).toBe(1)
    await Promise.all([a.close(), b.close()])
  })

  it('fails with a clear error when the server is unreachable', async () => {
    await expect(createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' })).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe('PostgreSQL store across a server restart', () => {
  it('rides through a restart: reads and writes made while the server is down complete once it is back, and nothing is written twice', async () => {
    const url = await server.createDatabase()
    const store = await createPostgresStore({ connectionString: url })
    let restarting: Promise<void> | undefined
    try {
      const now = Math.floor(Date.now() / 1000)
      await store.brokers.create({ id: 'demo', expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
      await store.credentials.insertMany([{ jti: 'j1', broker: 'demo', clientId: 'c1', username: null, issuedAt: now, expiresAt: now + 600, source: 'admin', issuedBy: 'ops' }])
      // the fast shutdown ends every pooled connection; the server is away for 2 s
      const probe = new pg.Client({ connectionString: url })
      await probe.connect()
      const down = new Promise<void>((resolve) => probe.on('error', () => resolve()))
      restarting = server.restart(2000)
      await down
      const during = await Promise.all([
        store.brokers.get('demo'),
        store.revocations.revoke('demo', ['j1'], now),
        store.accounts.list(),
      ])
      await restarting
      expect(during[0]).toMatchObject({ id: 'demo' })
      expect(during[1]).toEqual({ revision: 1, changed: ['j1'] })
      expect(await store.revocations.eventsSince('demo', 0)).toHaveLength(1)
    } finally {
      await restarting?.catch(() => {})
      await store.close()
    }
  }, 30_000)
})

describe('RetryingPool: a connection the server ends while it is checked out', () => {
  it('does not end the process; the next statement on it fails as the server going away, and the pool goes on', async () => {
    // a restart's fast shutdown ends every backend with FATAL 57P01; a pooled client that is checked
    // out between two statements gets no listener from the pool, and pg emits that as 'error' on it
    const url = await server.createDatabase()
    const pool = new RetryingPool({ connectionString: url, max: 2 })
    const held = await pool.connectWhenUp()
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown): void => void uncaught.push(err)
    process.prependListener('uncaughtException', onUncaught)
    try {
      const { rows } = await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      const admin = new pg.Client({ connectionString: url })
      await admin.connect()
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
      await admin.end()
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(uncaught).toEqual([])
      const err = await held.query('SELECT 1').then(() => undefined, (e: unknown) => e)
      expect(isServerAway(err), String(err)).toBe(true)
      held.release(true)
      expect((await pool.queryWhenUp<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1)
    } finally {
      process.off('uncaughtException', onUncaught)
      await pool.end()
    }
  })
})

/** A new database as the first `version` migrations left it, and a client on it (to fill it before the upgrade). */
async function databaseAtSchema(version: number, now: number): Promise<{ url: string; old: pg.Client }> {
  const url = await server.createDatabase()
  const old = new pg.Client({ connectionString: url })
  await old.connect()
  await old.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
  for (const [i, sql] of POSTGRES_MIGRATIONS.slice(0, version).entries()) {
    await old.query(sql)
    await old.query('INSERT INTO schema_migrations VALUES ($1, $2)', [i + 1, now])
  }
  return { url, old }
}
