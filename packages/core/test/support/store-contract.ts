import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Broker, Credential, Store } from '../../src/store.js'

/**
 * The Store contract: every implementation (SQLite, PostgreSQL) runs exactly
 * these tests. `open` gives a fresh, empty store for each test.
 */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store
    const now = Math.floor(Date.now() / 1000)
    const broker = (id: string): Broker => ({ id, expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    const credential = (jti: string, b = 'demo', expiresAt: number | null = now + 3600, source: Credential['source'] = 'admin'): Credential => ({
      jti, broker: b, clientId: `c-${jti}`, username: null, issuedAt: now, expiresAt, source, issuedBy: 'admin',
    })

    beforeEach(async () => { store = await open() })
    afterEach(async () => { await store.close() })

    describe('brokers and credentials', () => {
      it('refuses a duplicate broker id with ERR_CONFLICT and an unknown one with ERR_NOT_FOUND', async () => {
        await store.brokers.create(broker('demo'))
        await expect(store.brokers.create(broker('demo'))).rejects.toMatchObject({ code: 'ERR_CONFLICT' })
        await expect(store.brokers.update('nope', { expiration: 5 })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
        await expect(store.brokers.delete('nope', now)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
      })

      it('updates expiration and can clear it', async () => {
        await store.brokers.create(broker('demo'))
        expect((await store.brokers.update('demo', { expiration: 604800 })).expiration).toBe(604800)
        expect((await store.brokers.update('demo', { expiration: null })).expiration).toBeNull()
      })

      it('records a batch of credentials all or none', async () => {
        await store.brokers.create(broker('demo'))
        await store.credentials.insertMany([credential('a')])
        await expect(store.credentials.insertMany([credential('b'), credential('a')])).rejects.toMatchObject({ code: 'ERR_CONFLICT' })
        expect(await store.credentials.get('demo', 'b')).toBeUndefined()
        expect(await store.credentials.get('demo', 'a')).toMatchObject({ clientId: 'c-a', expiresAt: now + 3600 })
      })
    })

    describe('revocations', () => {
      beforeEach(async () => {
        await store.brokers.create(broker('demo'))
        await store.brokers.create(broker('other'))
        await store.credentials.insertMany([credential('j1'), credential('j2'), credential('j3', 'demo', null), credential('o1', 'other')])
      })

      it('revokes, bumps the revision per change, and is idempotent', async () => {
        expect(await store.revocations.revoke('demo', ['j1', 'j2'], now)).toEqual({ revision: 2, changed: ['j1', 'j2'] })
        expect(await store.revocations.revoke('demo', ['j1'], now)).toEqual({ revision: 2, changed: [] })
        expect(await store.revocations.isRevoked('demo', 'j1')).toBe(true)
        expect(await store.revocations.revision('other')).toBe(0)
      })

      it('refuses unknown jtis (and another broker\'s) without revoking any', async () => {
        await expect(store.revocations.revoke('demo', ['j1', 'o1', 'zz'], now)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
        expect(await store.revocations.list('demo')).toEqual([])
        expect(await store.revocations.revision('demo')).toBe(0)
      })

      it('unrevokes and reports events since a revision, in order', async () => {
        await store.revocations.revoke('demo', ['j1', 'j3'], now)
        expect(await store.revocations.unrevoke('demo', ['j1', 'j2'], now + 1)).toEqual({ revision: 3, changed: ['j1'] })
        expect(await store.revocations.list('demo')).toEqual([{ broker: 'demo', jti: 'j3', revokedAt: now, expiresAt: null }])
        const events = await store.revocations.eventsSince('demo', 1)
        expect(events.map((e) => [e.revision, e.jti, e.action])).toEqual([[2, 'j3', 'revoke'], [3, 'j1', 'unrevoke']])
      })

      it('prunes revocations of expired tokens only', async () => {
        await store.revocations.revoke('demo', ['j1', 'j3'], now)
        expect(await store.revocations.prune(now + 7200)).toBe(1)
        expect((await store.revocations.list('demo')).map((r) => r.jti)).toEqual(['j3'])
      })

      it('tells watchers which broker changed after a committed change, and not after a no-op', async () => {
        const seen: string[] = []
        let wake: () => void = () => {}
        const watching = store.revocations.watch((b) => { seen.push(b); wake() })
        await watching.ready
        const next = () => new Promise<void>((resolve) => { wake = resolve })
        let woke = next()
        await store.revocations.revoke('demo', ['j1'], now)
        await woke
        expect(seen).toEqual(['demo'])
        woke = next()
        await store.revocations.revoke('demo', ['j1'], now) // already revoked: no change, no call
        await store.revocations.unrevoke('other', ['o1'], now) // not revoked: no change, no call
        await store.revocations.unrevoke('demo', ['j1'], now)
        await woke
        expect(seen).toEqual(['demo', 'demo'])
        watching.stop()
        await store.revocations.revoke('demo', ['j2'], now)
        await store.revocations.unrevoke('demo', ['j2'], now)
        expect(seen).toEqual(['demo', 'demo'])
      })

      it('counts live credentials: neither expired nor revoked', async () => {
        await store.credentials.insertMany([credential('gone', 'demo', now - 1), credential('ex1', 'demo', now + 60, 'exchange')])
        expect(await store.credentials.countLive('demo', now)).toBe(4)
        await store.revocations.revoke('demo', ['j1'], now)
        expect(await store.credentials.countLive('demo', now)).toBe(3)
        expect(await store.credentials.countLive('demo', now, 'admin')).toBe(2)
        expect(await store.credentials.countLive('demo', now + 3600)).toBe(1)
        expect(await store.credentials.countLive('nope', now)).toBe(0)
      })

      it('tells when the n-th soonest-expiring live credential expires', async () => {
        await store.credentials.insertMany([credential('soon', 'demo', now + 10), credential('ex1', 'demo', now + 60, 'exchange')])
        await store.revocations.revoke('demo', ['soon'], now)
        // live admin credentials: j1, j2 (now + 3600) and j3 (never)
        expect(await store.credentials.nthLiveExpiry('demo', now, 1, 'admin')).toBe(now + 3600)
        expect(await store.credentials.nthLiveExpiry('demo', now, 2, 'admin')).toBe(now + 3600)
        expect(await store.credentials.nthLiveExpiry('demo', now, 3, 'admin')).toBeNull()
        expect(await store.credentials.nthLiveExpiry('demo', now, 1)).toBe(now + 60)
      })

      it('deleting a broker revokes its live credentials and drops their records, in one change', async () => {
        await store.credentials.insertMany([credential('gone', 'demo', now - 1)])
        await store.revocations.revoke('demo', ['j1'], now)
        expect(await store.brokers.delete('demo', now)).toEqual({ revision: 3, changed: ['j2', 'j3'] })
        expect(await store.brokers.get('demo')).toBeUndefined()
        expect(await store.credentials.get('demo', 'j2')).toBeUndefined()
        expect((await store.revocations.eventsSince('demo', 1)).map((e) => [e.revision, e.jti, e.action, e.expiresAt]))
          .toEqual([[2, 'j2', 'revoke', now + 3600], [3, 'j3', 'revoke', null]])
        expect(await store.credentials.get('other', 'o1')).toMatchObject({ jti: 'o1' })
        expect(await store.revocations.revision('other')).toBe(0)
      })

      it('keeps the revision and the revocations of a deleted broker: one created again under its id continues them', async () => {
        await store.revocations.revoke('demo', ['j1'], now)
        await store.brokers.delete('demo', now)
        expect(await store.revocations.revision('demo')).toBe(3)
        expect((await store.revocations.list('demo')).map((r) => r.jti)).toEqual(['j1', 'j2', 'j3'])

        await store.brokers.create(broker('demo'))
        await store.credentials.insertMany([credential('k1')])
        expect(await store.revocations.revoke('demo', ['k1'], now + 1)).toEqual({ revision: 4, changed: ['k1'] })
        expect(await store.revocations.isRevoked('demo', 'j1')).toBe(true)
        expect((await store.revocations.eventsSince('demo', 3)).map((e) => [e.revision, e.jti])).toEqual([[4, 'k1']])
        // the deleted broker's credentials are gone for good: they cannot be unrevoked through the new one
        await expect(store.revocations.revoke('demo', ['j2'], now)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
      })

      it('refuses to record a credential for a broker that does not exist (any more)', async () => {
        await store.brokers.delete('demo', now)
        await expect(store.credentials.insertMany([credential('late')])).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
        await expect(store.brokers.delete('demo', now)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
      })

      it('tells watchers about the revocations a broker deletion makes', async () => {
        const seen: string[] = []
        let wake: () => void = () => {}
        const woke = new Promise<void>((resolve) => { wake = resolve })
        const watching = store.revocations.watch((b) => { seen.push(b); wake() })
        await watching.ready
        await store.brokers.delete('demo', now)
        await woke
        expect(seen).toEqual(['demo'])
        watching.stop()
      })

      it('prunes the records of credentials expired before a time, never those without expiry', async () => {
        await store.credentials.insertMany([credential('gone', 'demo', now - 10)])
        expect(await store.credentials.prune(now - 5)).toBe(1)
        expect(await store.credentials.get('demo', 'gone')).toBeUndefined()
        expect(await store.credentials.prune(now + 7200)).toBe(3)
        expect((await store.credentials.get('demo', 'j3'))?.expiresAt).toBeNull()
      })

      it('prunes the revocations and revocation events of expired tokens only', async () => {
        await store.revocations.revoke('demo', ['j1', 'j3'], now)
        await store.revocations.unrevoke('demo', ['j3'], now)
        await store.revocations.revoke('demo', ['j3'], now)
        expect(await store.revocations.prune(now + 7200)).toBe(1)
        expect((await store.revocations.eventsSince('demo', 0)).map((e) => [e.revision, e.jti, e.action]))
          .toEqual([[2, 'j3', 'revoke'], [3, 'j3', 'unrevoke'], [4, 'j3', 'revoke']])
        expect(await store.revocations.revision('demo')).toBe(4)
      })
    })

    describe('accounts, oidc records and keys', () => {
      it('stores accounts, refuses a taken username, and updates', async () => {
        const account = { id: 'a1', username: 'alice', passwordHash: 'h', clientIds: ['c1'], groups: ['ops'], disabled: false, createdAt: now, clientIdMode: 'per-login' as const }
        await store.accounts.create(account)
        await expect(store.accounts.create({ ...account, id: 'a2' })).rejects.toMatchObject({ code: 'ERR_CONFLICT' })
        expect(await store.accounts.findByUsername('alice')).toEqual(account)
        expect((await store.accounts.update('a1', { disabled: true })).disabled).toBe(true)
        await expect(store.accounts.update('zz', { disabled: true })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
      })

      it('stores the client id mode: per-login unless set, shared when an admin sets it', async () => {
        const base = { passwordHash: 'h', clientIds: ['c1', 'c2'], groups: [], disabled: false, createdAt: now }
        await store.accounts.create({ ...base, id: 'm1', username: 'person' })
        await store.accounts.create({ ...base, id: 'm2', username: 'gateway', clientIdMode: 'shared' })
        expect((await store.accounts.findById('m1'))?.clientIdMode).toBe('per-login')
        expect((await store.accounts.findByUsername('gateway'))?.clientIdMode).toBe('shared')
        expect((await store.accounts.update('m1', { clientIdMode: 'shared' })).clientIdMode).toBe('shared')
        expect((await store.accounts.findById('m1'))?.clientIdMode).toBe('shared')
        await store.accounts.update('m2', { disabled: true })
        expect((await store.accounts.findById('m2'))?.clientIdMode).toBe('shared')
        expect((await store.accounts.list()).map((a) => [a.username, a.clientIdMode])).toEqual([['gateway', 'shared'], ['person', 'shared']])
      })

      it('implements the oidc-provider adapter lookups', async () => {
        await store.oidc.upsert('DeviceCode', 'd1', { userCode: 'ABCD', grantId: 'g1' }, 600)
        await store.oidc.upsert('Session', 's1', { uid: 'u1' }, 600)
        await store.oidc.upsert('AccessToken', 't1', { grantId: 'g1' }, 600)
        expect(await store.oidc.findByUserCode('DeviceCode', 'ABCD')).toEqual({ userCode: 'ABCD', grantId: 'g1' })
        expect(await store.oidc.findByUid('Session', 'u1')).toEqual({ uid: 'u1' })
        await store.oidc.consume('DeviceCode', 'd1')
        expect((await store.oidc.find('DeviceCode', 'd1'))?.consumed).toBeTypeOf('number')
        await store.oidc.revokeByGrantId('AccessToken', 'g1')
        expect(await store.oidc.find('AccessToken', 't1')).toBeUndefined()
        expect(await store.oidc.find('DeviceCode', 'd1')).toBeUndefined()
      })

      it('reads expired oidc records as absent and prunes them', async () => {
        await store.oidc.upsert('Session', 's1', { uid: 'u1' }, 1)
        expect(await store.oidc.prune(Math.floor(Date.now() / 1000) + 10)).toBe(1)
        expect(await store.oidc.find('Session', 's1')).toBeUndefined()
      })

      it('stores signing keys per owner and retires them', async () => {
        await store.keys.add({ kid: 'k1', alg: 'EdDSA', owner: 'exchange', privateJwk: { kty: 'OKP' }, createdAt: now, retiredAt: null })
        await store.keys.retire('k1', now + 1)
        expect(await store.keys.list('exchange')).toEqual([{ kid: 'k1', alg: 'EdDSA', owner: 'exchange', privateJwk: { kty: 'OKP' }, createdAt: now, retiredAt: now + 1 }])
        expect(await store.keys.list('idp')).toEqual([])
      })
    })

    describe('locks', () => {
      it('runs holders of one name one at a time, in order, and holders of another name alongside', async () => {
        const events: string[] = []
        const hold = (name: string, tag: string, ms: number) => store.withLock(name, async () => {
          events.push(`${tag}+`)
          await new Promise((resolve) => setTimeout(resolve, ms))
          events.push(`${tag}-`)
          return tag
        })
        expect(await Promise.all([hold('a', '1', 60), hold('a', '2', 5), hold('b', '3', 5)])).toEqual(['1', '2', '3'])
        expect(events.indexOf('2+')).toBeGreaterThan(events.indexOf('1-'))
        expect(events.indexOf('3-')).toBeLessThan(events.indexOf('1-'))
      })

      it('releases the lock when its holder fails', async () => {
        await expect(store.withLock('a', async () => { throw new Error('boom') })).rejects.toThrow('boom')
        expect(await store.withLock('a', async () => 'next')).toBe('next')
      })
    })
  })
}
