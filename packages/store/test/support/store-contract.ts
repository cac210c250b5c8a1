import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Broker, Credential, OAuthClient, Store } from '@mqtt-oidc/core'

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
        await store.accounts.create({ ...base, id: 'm2', username: 'gateway', clientIds: ['g1', 'g2'], clientIdMode: 'shared' })
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

    describe('client id owners', () => {
      const account = (id: string, clientIds: string[]) => ({
        id, username: `user-${id}`, passwordHash: 'h', clientIds, groups: [], disabled: false, createdAt: now, clientIdMode: 'per-login' as const,
      })
      const alice = { kind: 'account', accountId: 'a1' } as const
      const bob = { kind: 'account', accountId: 'a2' } as const
      const subject = { kind: 'subject', issuer: 'https://other.example', subject: 's1' } as const

      it('makes an account the owner of its client ids, and refuses them to another account, leaving nothing behind', async () => {
        await store.accounts.create(account('a1', ['demo-1', 'demo-2']))
        expect(await store.clientIds.holder('demo-1', now)).toEqual({ clientId: 'demo-1', owner: alice, source: 'configured', expiresAt: null, createdAt: expect.any(Number) })
        await expect(store.accounts.create(account('a2', ['mallory-1', 'demo-2']))).rejects.toMatchObject({
          code: 'ERR_CLIENT_ID_TAKEN', clientId: 'demo-2', message: 'client id "demo-2" belongs to another account',
        })
        expect(await store.accounts.findById('a2')).toBeUndefined()
        expect(await store.clientIds.holder('mallory-1', now)).toBeUndefined()
        await store.accounts.create(account('a2', ['mallory-1']))
        await expect(store.accounts.update('a2', { clientIds: ['mallory-1', 'demo-1'] })).rejects.toMatchObject({ code: 'ERR_CLIENT_ID_TAKEN', clientId: 'demo-1' })
        expect((await store.accounts.findById('a2'))?.clientIds).toEqual(['mallory-1'])
      })

      it('moves ids with an account\'s list: a dropped id is free for another account, a kept one stays', async () => {
        await store.accounts.create(account('a1', ['demo-1', 'demo-2']))
        await store.accounts.update('a1', { clientIds: ['demo-2', 'demo-3'] })
        expect((await store.clientIds.heldBy(alice, now)).map((h) => h.clientId).sort()).toEqual(['demo-2', 'demo-3'])
        expect(await store.clientIds.holder('demo-1', now)).toBeUndefined()
        await store.accounts.create(account('a2', ['demo-1']))
        expect((await store.clientIds.holder('demo-1', now))?.owner).toEqual(bob)
        expect((await store.accounts.update('a1', { disabled: true })).clientIds).toEqual(['demo-2', 'demo-3'])
        expect((await store.clientIds.holder('demo-2', now))?.owner).toEqual(alice)
      })

      it('claims free ids for leases and subjects, keeps them from others, and lets a lapsed lease go', async () => {
        await store.accounts.create(account('a1', ['demo-1']))
        expect(await store.clientIds.claim('demo-1-ABCDEFGHIJ', alice, { source: 'lease', expiresAt: now + 60, now }))
          .toMatchObject({ clientId: 'demo-1-ABCDEFGHIJ', owner: alice, source: 'lease', expiresAt: now + 60 })
        // The same owner again: kept, its expiry raised; another owner: refused (the holding in force comes back).
        expect(await store.clientIds.claim('demo-1-ABCDEFGHIJ', alice, { source: 'lease', expiresAt: now + 120, now })).toMatchObject({ owner: alice, expiresAt: now + 120 })
        expect(await store.clientIds.claim('demo-1-ABCDEFGHIJ', subject, { source: 'exchange', expiresAt: null, now })).toMatchObject({ owner: alice, source: 'lease' })
        expect(await store.clientIds.claim('demo-1', subject, { source: 'exchange', expiresAt: null, now })).toMatchObject({ owner: alice, source: 'configured' })
        await expect(store.accounts.create(account('a2', ['demo-1-ABCDEFGHIJ']))).rejects.toMatchObject({ code: 'ERR_CLIENT_ID_TAKEN' })
        expect(await store.clientIds.claim('gw-9', subject, { source: 'exchange', expiresAt: null, now })).toMatchObject({ owner: subject, source: 'exchange', expiresAt: null })
        await expect(store.accounts.create(account('a2', ['gw-9']))).rejects.toMatchObject({
          code: 'ERR_CLIENT_ID_TAKEN', message: 'client id "gw-9" belongs to a subject of another issuer',
        })
        expect(await store.clientIds.heldBy(subject, now)).toEqual([expect.objectContaining({ clientId: 'gw-9' })])
        // Lapsed: reads as absent, is free for anyone, and is pruned.
        expect(await store.clientIds.holder('demo-1-ABCDEFGHIJ', now + 120)).toBeUndefined()
        expect(await store.clientIds.claim('demo-1-ABCDEFGHIJ', bob, { source: 'lease', expiresAt: now + 500, now: now + 121 })).toMatchObject({ owner: bob })
        expect(await store.clientIds.prune(now + 500)).toBe(1)
        expect(await store.clientIds.holder('demo-1-ABCDEFGHIJ', now)).toBeUndefined()
      })

      it('releases a lease or a subject\'s id only for its owner, never a configured id', async () => {
        await store.accounts.create(account('a1', ['demo-1']))
        await store.clientIds.claim('gw-9', subject, { source: 'exchange', expiresAt: null, now })
        await store.clientIds.release('gw-9', alice)
        await store.clientIds.release('demo-1', alice)
        expect((await store.clientIds.holder('gw-9', now))?.owner).toEqual(subject)
        expect((await store.clientIds.holder('demo-1', now))?.owner).toEqual(alice)
        await store.clientIds.release('gw-9', subject)
        expect(await store.clientIds.holder('gw-9', now)).toBeUndefined()
      })
    })

    describe('account cut-offs', () => {
      it('stores a cut-off per account with a store-wide revision, never lowers it, and lists changes since a revision', async () => {
        expect(await store.cutoffs.get('a1')).toBeUndefined()
        expect(await store.cutoffs.set('a1', now)).toEqual({ accountId: 'a1', notBefore: now, revision: 1 })
        expect(await store.cutoffs.set('a2', now + 5)).toEqual({ accountId: 'a2', notBefore: now + 5, revision: 2 })
        expect(await store.cutoffs.set('a1', now - 10)).toEqual({ accountId: 'a1', notBefore: now, revision: 3 })
        expect(await store.cutoffs.get('a1')).toEqual({ accountId: 'a1', notBefore: now, revision: 3 })
        expect(await store.cutoffs.since(1)).toEqual([{ accountId: 'a2', notBefore: now + 5, revision: 2 }, { accountId: 'a1', notBefore: now, revision: 3 }])
        expect(await store.cutoffs.since(0, 1)).toEqual([{ accountId: 'a2', notBefore: now + 5, revision: 2 }])
      })

      it('finds the live exchanged credentials of a subject issued before a time, on every broker', async () => {
        await store.brokers.create(broker('demo'))
        await store.brokers.create(broker('other'))
        const exchanged = (jti: string, b: string, issuedAt: number, expiresAt: number | null, issuedBy = 'a1'): Credential => ({
          jti, broker: b, clientId: 'c', username: null, issuedAt, expiresAt, source: 'exchange', issuedBy,
        })
        await store.credentials.insertMany([
          exchanged('old', 'demo', now - 10, now + 600), exchanged('other-broker', 'other', now - 5, now + 600),
          exchanged('expired', 'demo', now - 900, now - 1), exchanged('after', 'demo', now + 1, now + 600),
          exchanged('someone-else', 'demo', now - 10, now + 600, 'a2'), { ...credential('admin'), issuedBy: 'a1' },
        ])
        expect((await store.credentials.liveIssuedTo('a1', now + 1, now)).map((c) => [c.broker, c.jti])).toEqual([['demo', 'old'], ['other', 'other-broker']])
      })

      it('destroys every oidc record of an account', async () => {
        await store.oidc.upsert('Session', 's1', { accountId: 'a1', uid: 'u1' }, 600)
        await store.oidc.upsert('Grant', 'g1', { accountId: 'a1' }, 600)
        await store.oidc.upsert('RefreshToken', 'r1', { accountId: 'a1', grantId: 'g1' }, 600)
        await store.oidc.upsert('Grant', 'g2', { accountId: 'a2' }, 600)
        expect(await store.oidc.destroyByAccount('a1')).toBe(3)
        expect(await store.oidc.find('Grant', 'g1')).toBeUndefined()
        expect(await store.oidc.find('Grant', 'g2')).toEqual({ accountId: 'a2' })
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
