import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Broker, Credential, OAuthClient, Store } from '../../src/store.js'

/**
 * The Store contract: every implementation (SQLite, PostgreSQL) runs exactly
 * these tests. `open` gives a fresh, empty store for each test.
 */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store
    const now = Math.floor(Date.now() / 1000)
    const broker = (id: string): Broker => ({ id, expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    const credential = (jti: string, b = 'demo', expiresAt: number | null = now + 3600): Credential => ({
      jti, broker: b, clientId: `c-${jti}`, username: null, issuedAt: now, expiresAt, source: 'admin', issuedBy: 'admin',
    })

    beforeEach(async () => { store = await open() })
    afterEach(async () => { await store.close() })

    describe('brokers and credentials', () => {
      it('refuses a duplicate broker id with ERR_CONFLICT and an unknown one with ERR_NOT_FOUND', async () => {
        await store.brokers.create(broker('demo'))
        await expect(store.brokers.create(broker('demo'))).rejects.toMatchObject({ code: 'ERR_CONFLICT' })
        await expect(store.brokers.update('nope', { expiration: 5 })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
        await expect(store.brokers.delete('nope')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
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

      it('deleting a broker removes its credentials and revocations', async () => {
        await store.revocations.revoke('demo', ['j1'], now)
        await store.brokers.delete('demo')
        expect(await store.credentials.get('demo', 'j1')).toBeUndefined()
        expect(await store.revocations.list('demo')).toEqual([])
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

    describe('oauth clients', () => {
      const web: OAuthClient = {
        clientId: 'dashboard', name: 'Fleet dashboard', applicationType: 'web', tokenEndpointAuthMethod: 'client_secret_basic',
        secretHash: 'sha256:abc', redirectUris: ['https://dash.example/cb'], postLogoutRedirectUris: ['https://dash.example/'],
        grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'mqtt', 'offline_access'], idTokenSignedResponseAlg: null, createdAt: now, updatedAt: now,
      }
      const agent: OAuthClient = {
        ...web, clientId: 'agent', name: 'oidc-agent', applicationType: 'native', tokenEndpointAuthMethod: 'none', secretHash: null,
        redirectUris: ['http://localhost/', 'http://127.0.0.1/'], postLogoutRedirectUris: [], grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'], idTokenSignedResponseAlg: 'EdDSA',
      }

      it('stores clients with every field, lists them by id, and refuses a taken id with ERR_CONFLICT', async () => {
        await store.oauthClients.create(web)
        await store.oauthClients.create(agent)
        await expect(store.oauthClients.create({ ...agent, name: 'again' })).rejects.toMatchObject({ code: 'ERR_CONFLICT' })
        expect(await store.oauthClients.get('dashboard')).toEqual(web)
        expect(await store.oauthClients.get('agent')).toEqual(agent)
        expect(await store.oauthClients.get('nope')).toBeUndefined()
        expect((await store.oauthClients.list()).map((c) => c.clientId)).toEqual(['agent', 'dashboard'])
      })

      it('updates only the fields given, keeps the creation time, and can clear the secret', async () => {
        await store.oauthClients.create(web)
        const updated = await store.oauthClients.update('dashboard', { redirectUris: ['https://new.example/cb'], secretHash: null, tokenEndpointAuthMethod: 'none', idTokenSignedResponseAlg: 'ES256', updatedAt: now + 5, createdAt: 1 } as Partial<OAuthClient>)
        expect(updated).toEqual({ ...web, redirectUris: ['https://new.example/cb'], secretHash: null, tokenEndpointAuthMethod: 'none', idTokenSignedResponseAlg: 'ES256', updatedAt: now + 5 })
        expect(await store.oauthClients.get('dashboard')).toEqual(updated)
      })

      it('deletes, and refuses an unknown id with ERR_NOT_FOUND', async () => {
        await store.oauthClients.create(web)
        await store.oauthClients.delete('dashboard')
        expect(await store.oauthClients.get('dashboard')).toBeUndefined()
        await expect(store.oauthClients.delete('dashboard')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
        await expect(store.oauthClients.update('dashboard', { name: 'x' })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
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
