import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { ensureBroker } from '../src/ensure-broker.js'
import { ensureFeedCredential } from '../src/ensure-feed-credential.js'
import { checkFeedCredential, issueFeedCredential } from '../src/lib/feed-credentials.js'

let dir: string
let store: Store

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-feed-cred-'))
  store = createSqliteStore(join(dir, 'exchange.sqlite'))
  await ensureBroker(store, { id: 'demo' })
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const valid = async (file: string): Promise<boolean> => (await checkFeedCredential(store, 'demo', readFileSync(file, 'utf8').trim())) !== undefined

describe('ensureFeedCredential (bootstrapped brokers)', () => {
  it('issues the credential on first start into a 0600 file, and keeps it on the next', async () => {
    const file = join(dir, 'feed-credentials', 'demo')
    expect(await ensureFeedCredential(store, 'demo', file)).toBe('issued')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toMatch(/^mqof_[A-Za-z0-9_-]{43}\n$/)
    const first = readFileSync(file, 'utf8')
    expect(await ensureFeedCredential(store, 'demo', file)).toBe('kept')
    expect(readFileSync(file, 'utf8')).toBe(first)
    expect(await valid(file)).toBe(true)
  })

  it('does not re-issue when the store holds another credential (another instance, an admin rotation)', async () => {
    await issueFeedCredential(store, (await store.brokers.get('demo'))!, 0)
    const file = join(dir, 'demo.feed')
    expect(await ensureFeedCredential(store, 'demo', file)).toBe('elsewhere')
    writeFileSync(file, 'mqof_stale\n')
    expect(await ensureFeedCredential(store, 'demo', file)).toBe('elsewhere')
    expect(readFileSync(file, 'utf8')).toBe('mqof_stale\n')
  })

  it('issues a new one for a broker re-created under the same id', async () => {
    const file = join(dir, 'feed-credentials', 'demo')
    await ensureFeedCredential(store, 'demo', file)
    await store.brokers.delete('demo', Math.floor(Date.now() / 1000))
    await ensureBroker(store, { id: 'demo' }, Math.floor(Date.now() / 1000) + 10)
    expect(await valid(file)).toBe(false)
    expect(await ensureFeedCredential(store, 'demo', file)).toBe('issued')
    expect(await valid(file)).toBe(true)
  })
})
