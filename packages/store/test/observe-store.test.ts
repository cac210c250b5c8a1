import { describe, expect, it } from 'vitest'
import { createSqliteStore } from '../src/create-sqlite-store.js'
import { observeStore, type StoreCall } from '../src/observe-store.js'

describe('observeStore', () => {
  it('reports each store call with its operation, time and outcome, and passes results and errors through', async () => {
    const calls: StoreCall[] = []
    const store = observeStore(createSqliteStore(':memory:'), (call) => calls.push(call))
    const now = Math.floor(Date.now() / 1000)
    await store.brokers.create({ id: 'demo', expiration: null, acl: { pub: [], sub: [] }, url: null, createdAt: now, updatedAt: now })
    expect((await store.brokers.list()).map((b) => b.id)).toEqual(['demo'])
    await expect(
      store.brokers.create({ id: 'demo', expiration: null, acl: { pub: [], sub: [] }, url: null, createdAt: now, updatedAt: now }),
    ).rejects.toMatchObject({ code: 'ERR_CONFLICT' })
    await store.ping()
    const watching = store.revocations.watch(() => {})
    await watching.ready
    watching.stop()
    expect(await store.withLock('x', async () => 'held')).toBe('held')
    expect(calls.map((c) => [c.operation, c.outcome])).toEqual([
      ['brokers.create', 'ok'],
      ['brokers.list', 'ok'],
      ['brokers.create', 'refused'],
      ['ping', 'ok'],
    ])
    expect(calls.every((c) => c.seconds >= 0 && c.seconds < 60)).toBe(true)
    await store.close()
    await expect(store.brokers.list()).rejects.toThrow()
    expect(calls.at(-1)).toMatchObject({ operation: 'brokers.list', outcome: 'error' })
  })
})
