import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../src/create-sqlite-store.js'
import type { Store } from '../src/store.js'
import { describeStoreContract } from './support/store-contract.js'

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

const contractDirs: string[] = []
afterAll(() => { for (const d of contractDirs) rmSync(d, { recursive: true, force: true }) })
describeStoreContract('SQLite', async () => {
  const contractDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-contract-'))
  contractDirs.push(contractDir)
  return createSqliteStore(join(contractDir, 'state.sqlite'))
})
