import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_BROKER_POLICY } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { ensureBroker } from '../src/ensure-broker.js'

let store: Store
beforeEach(() => {
  store = createSqliteStore(':memory:')
})
afterEach(async () => {
  await store.close()
})

describe('ensureBroker', () => {
  it('creates a missing broker with the default ACL and policy, and leaves an existing one as it is', async () => {
    const created = await ensureBroker(store, { id: 'demo', url: 'mqtt://localhost:1883' }, 1000)
    expect(created).toMatchObject({ id: 'demo', url: 'mqtt://localhost:1883', expiration: null, policy: DEFAULT_BROKER_POLICY, createdAt: 1000 })
    await store.brokers.update('demo', { url: 'mqtt://changed:1883', updatedAt: 1001 })
    expect(await ensureBroker(store, { id: 'demo', url: 'mqtt://localhost:1883' }, 2000)).toMatchObject({ url: 'mqtt://changed:1883', createdAt: 1000 })
  })

  it("is safe when instances start together: the one that loses the race to create takes the winner's broker instead of failing", async () => {
    const [a, b] = await Promise.all([ensureBroker(store, { id: 'demo' }, 1000), ensureBroker(store, { id: 'demo' }, 1000)])
    expect(a).toEqual(b)
    expect((await store.brokers.list()).map((broker) => broker.id)).toEqual(['demo'])
  })
})
