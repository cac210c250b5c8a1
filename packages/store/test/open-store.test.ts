import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../src/open-store.js'
import { startPostgres, type TestPostgres } from '@mqtt-oidc/test-support/start-postgres'

let server: TestPostgres
let dir: string
beforeAll(async () => {
  server = await startPostgres()
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-open-'))
}, 60_000)
afterAll(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('openStore', () => {
  it('opens the embedded SQLite file when no URL is set', async () => {
    const store = await openStore({ dataDir: dir, file: 'x.sqlite' })
    await store.close()
    expect(existsSync(join(dir, 'x.sqlite'))).toBe(true)
  })

  it('opens PostgreSQL for a postgres:// URL and does not touch the data dir', async () => {
    const store = await openStore({ url: await server.createDatabase(), dataDir: dir, file: 'y.sqlite' })
    expect(await store.brokers.list()).toEqual([])
    await store.close()
    expect(existsSync(join(dir, 'y.sqlite'))).toBe(false)
  })

  it('refuses anything else with ERR_INVALID_REQUEST', async () => {
    await expect(openStore({ url: 'mysql://x', dataDir: dir, file: 'z.sqlite' })).rejects.toMatchObject({ code: 'ERR_INVALID_REQUEST' })
  })
})
