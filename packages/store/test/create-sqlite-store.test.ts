import Database from 'better-sqlite3'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../src/create-sqlite-store.js'
import { SQLITE_MIGRATIONS } from '../src/lib/sqlite-schema.js'
import type { Store } from '@mqtt-oidc/core'
import { describeStoreContract } from './support/store-contract.js'
import { LEGACY_BROKERS, LEGACY_KEYS, expectLegacyRecordsMigrated, legacyRecords } from './support/legacy-records.js'
import { describeConsoleStoreContract } from './support/console-store-contract.js'

let dir: string
let store: Store
const now = Math.floor(Date.now() / 1000)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-store-'))
  store = createSqliteStore(join(dir, 'sub', 'state.sqlite'))
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('SQLite store file', () => {
  it('creates the database with mode 0600 in a 0700 directory', () => {
    expect(statSync(join(dir, 'sub', 'state.sqlite')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700)
  })

  it('keeps data across reopen and does not re-run migrations', async () => {
    await store.brokers.create({ id: 'demo', expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    await store.close()
    store = createSqliteStore(join(dir, 'sub', 'state.sqlite'))
    expect((await store.brokers.get('demo'))?.id).toBe('demo')
  })
})

describe('SQLite store upgrade', () => {
  it('keeps revocations, events and revisions made before the upgrade, and from then on they outlive a deleted broker', async () => {
    // A database as the two first schema versions left it, with one revoked credential.
    const path = join(dir, 'old', 'state.sqlite')
    mkdirSync(join(dir, 'old'))
    const old = new Database(path)
    old.pragma('foreign_keys = ON')
    atSchema(old, 2)
    old.prepare(`INSERT INTO brokers VALUES ('demo', NULL, '{"pub":["#"],"sub":["#"]}', NULL, ?, ?)`).run(now, now)
    old.prepare(`INSERT INTO credentials VALUES ('j1', 'demo', 'c1', NULL, ?, ?, 'admin', 'ops')`).run(now, now + 3600)
    old.prepare(`INSERT INTO credentials VALUES ('j2', 'demo', 'c2', NULL, ?, ?, 'admin', 'ops')`).run(now, now + 3600)
    old.prepare(`INSERT INTO revocations VALUES ('demo', 'j1', ?, ?)`).run(now, now + 3600)
    old.prepare(`INSERT INTO revocation_events VALUES ('demo', 1, 'j1', 'revoke', ?, ?)`).run(now + 3600, now)
    old.prepare(`INSERT INTO broker_revisions VALUES ('demo', 1)`).run()
    old.close()

    const upgraded = createSqliteStore(path)
    try {
      expect(await upgraded.revocations.list('demo')).toEqual([{ broker: 'demo', jti: 'j1', revokedAt: now, expiresAt: now + 3600 }])
      expect(await upgraded.revocations.revision('demo')).toBe(1)
      expect(await upgraded.brokers.delete('demo', now)).toEqual({ revision: 2, changed: ['j2'] })
      expect((await upgraded.revocations.list('demo')).map((r) => r.jti)).toEqual(['j1', 'j2'])
      expect((await upgraded.revocations.eventsSince('demo', 0)).map((e) => e.jti)).toEqual(['j1', 'j2'])
    } finally {
      await upgraded.close()
    }
  })
})

describe('SQLite store migration to client id owners', () => {
  it('gives each account the ids only it lists, records ids several accounts list as conflicts owned by none, and keeps live leases', async () => {
    const path = join(dir, 'old.sqlite')
    const old = new Database(path)
    atSchema(old, 2)
    const insert = old.prepare("INSERT INTO accounts (id, username, password_hash, client_ids, groups, created_at) VALUES (?, ?, 'h', ?, '[]', ?)")
    insert.run('demo', 'demo', JSON.stringify(['demo-1', 'shared-gw']), now - 100)
    insert.run('mallory', 'mallory', JSON.stringify(['shared-gw', 'mallory-1']), now)
    old.prepare("INSERT INTO oidc_records (model, id, payload, expires_at) VALUES ('ClientIdLease', 'demo', ?, ?)")
      .run(JSON.stringify({ grants: { g1: { clientId: 'demo-1', base: 'demo-1' }, g2: { clientId: 'demo-1-ABCDEFGHIJ', base: 'demo-1' } } }), now + 3600)
    old.close()

    const migrated = createSqliteStore(path)
    try {
      expect(await migrated.clientIds.conflicts()).toEqual([{ clientId: 'shared-gw', accountIds: ['demo', 'mallory'] }])
      expect(await migrated.clientIds.holder('shared-gw', now)).toMatchObject({ owner: undefined, source: 'conflict' })
      expect((await migrated.clientIds.heldBy({ kind: 'account', accountId: 'demo' }, now)).map((h) => [h.clientId, h.source]))
        .toEqual([['demo-1', 'configured'], ['demo-1-ABCDEFGHIJ', 'lease']])
      expect((await migrated.clientIds.holder('mallory-1', now))?.owner).toEqual({ kind: 'account', accountId: 'mallory' })
      // An admin resolves the conflict by taking the id from one account: the other one owns it.
      await migrated.accounts.update('mallory', { clientIds: ['mallory-1'] })
      expect(await migrated.clientIds.conflicts()).toEqual([])
      expect(await migrated.clientIds.holder('shared-gw', now)).toMatchObject({ owner: { kind: 'account', accountId: 'demo' }, source: 'configured' })
    } finally {
      await migrated.close()
    }
  })
})

describe('SQLite store migration of the records kept in oidc_records', () => {
  it('moves broker policies, feed credentials, key usage and per-login leases into typed columns and tables, and leaves no record behind', async () => {
    // A database as the five first schema versions left it, with the records the apps kept there.
    const path = join(dir, 'records.sqlite')
    const old = new Database(path)
    atSchema(old, 5)
    const broker = old.prepare(`INSERT INTO brokers (id, expiration, acl, url, created_at, updated_at) VALUES (?, NULL, '{"pub":["#"],"sub":["#"]}', NULL, ?, ?)`)
    for (const id of LEGACY_BROKERS) broker.run(id, now, now)
    const key = old.prepare(`INSERT INTO signing_keys VALUES (?, 'EdDSA', 'exchange', '{"kty":"OKP"}', ?, NULL)`)
    for (const kid of LEGACY_KEYS) key.run(kid, now)
    const record = old.prepare('INSERT INTO oidc_records (model, id, payload, expires_at) VALUES (?, ?, ?, ?)')
    for (const [model, id, payload, expiresAt] of legacyRecords(now)) record.run(model, id, JSON.stringify(payload), expiresAt)
    old.close()

    const migrated = createSqliteStore(path)
    try {
      await expectLegacyRecordsMigrated(migrated, now)
    } finally {
      await migrated.close()
    }
    const after = new Database(path, { readonly: true })
    expect(after.prepare("SELECT model FROM oidc_records WHERE model <> 'Session'").all()).toEqual([])
    after.close()
  })
})

const contractDirs: string[] = []
afterAll(() => { for (const d of contractDirs) rmSync(d, { recursive: true, force: true }) })
describeStoreContract('SQLite', async () => {
  const contractDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-contract-'))
  contractDirs.push(contractDir)
  return createSqliteStore(join(contractDir, 'state.sqlite'))
})

/** Brings the empty database `db` to the first `version` migrations, as an older release left it. */
function atSchema(db: Database.Database, version: number): void {
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  SQLITE_MIGRATIONS.slice(0, version).forEach((sql, i) => { db.exec(sql); db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(i + 1, now) })
}
describeConsoleStoreContract('SQLite', async () => {
  const contractDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-contract-'))
  contractDirs.push(contractDir)
  return createSqliteStore(join(contractDir, 'state.sqlite'))
})
