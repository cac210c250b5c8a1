import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Credential, NewBroker, ReportedSession, SessionReport, Store } from '@mqtt-oidc/core'

/**
 * What the console reads from the Store: credential search, and the live
 * sessions broker nodes report. Every implementation (SQLite, PostgreSQL)
 * runs exactly these tests; `open` gives a fresh, empty store for each test.
 */
export function describeConsoleStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract (console): ${name}`, () => {
    let store: Store
    const now = 1_800_000_000
    const broker = (id: string): NewBroker => ({ id, expiration: null, acl: { pub: ['#'], sub: ['#'] }, url: null, createdAt: now, updatedAt: now })
    const credential = (jti: string, fields: Partial<Credential> = {}): Credential => ({
      jti,
      broker: 'demo',
      clientId: `c-${jti}`,
      username: null,
      issuedAt: now,
      expiresAt: now + 3600,
      source: 'admin',
      issuedBy: 'admin',
      ...fields,
    })

    beforeEach(async () => {
      store = await open()
    })
    afterEach(async () => {
      await store.close()
    })

    describe('credential search', () => {
      beforeEach(async () => {
        await store.brokers.create(broker('demo'))
        await store.brokers.create(broker('other'))
        await store.credentials.insertMany([
          credential('j1', { clientId: 'gw-1', issuedAt: now - 30 }),
          credential('j2', { clientId: 'gw-2', issuedAt: now - 20, expiresAt: null }),
          credential('j3', { clientId: 'sensor-1', issuedAt: now - 20, source: 'exchange', issuedBy: 'sub-1' }),
          credential('j4', { clientId: 'gw-1', issuedAt: now - 10, expiresAt: now - 5 }),
          credential('o1', { broker: 'other', clientId: 'gw-1' }),
        ])
        await store.revocations.revoke('demo', ['j1'], now - 1)
      })
      const jtis = async (query: Partial<Parameters<Store['credentials']['search']>[1]>) =>
        (await store.credentials.search('demo', { limit: 100, ...query })).map((c) => c.jti)

      it("lists a broker's credentials newest first (then by jti, descending), each with its revocation time", async () => {
        expect(await store.credentials.search('demo', { limit: 100 })).toEqual([
          { ...credential('j4', { clientId: 'gw-1', issuedAt: now - 10, expiresAt: now - 5 }), revokedAt: null },
          { ...credential('j3', { clientId: 'sensor-1', issuedAt: now - 20, source: 'exchange', issuedBy: 'sub-1' }), revokedAt: null },
          { ...credential('j2', { clientId: 'gw-2', issuedAt: now - 20, expiresAt: null }), revokedAt: null },
          { ...credential('j1', { clientId: 'gw-1', issuedAt: now - 30 }), revokedAt: now - 1 },
        ])
      })

      it('filters by client id, jti, a part of either, source and revocation', async () => {
        expect(await jtis({ clientId: 'gw-1' })).toEqual(['j4', 'j1'])
        expect(await jtis({ jti: 'j2' })).toEqual(['j2'])
        expect(await jtis({ contains: 'sens' })).toEqual(['j3'])
        expect(await jtis({ contains: '3' })).toEqual(['j3'])
        expect(await jtis({ contains: 'GW' })).toEqual([])
        expect(await jtis({ contains: '%' })).toEqual([])
        expect(await jtis({ source: 'exchange' })).toEqual(['j3'])
        expect(await jtis({ revoked: true })).toEqual(['j1'])
        expect(await jtis({ revoked: false })).toEqual(['j4', 'j3', 'j2'])
      })

      it('filters by issue and expiry time; a credential without expiry expires after any time', async () => {
        expect(await jtis({ issuedFrom: now - 20 })).toEqual(['j4', 'j3', 'j2'])
        expect(await jtis({ issuedUntil: now - 20 })).toEqual(['j1'])
        expect(await jtis({ expiresFrom: now })).toEqual(['j3', 'j2', 'j1'])
        expect(await jtis({ expiresUntil: now })).toEqual(['j4'])
        // Live now: not expired, not revoked.
        expect(await jtis({ expiresFrom: now, revoked: false })).toEqual(['j3', 'j2'])
      })

      it('pages with a cursor: the records after the last one of the previous page', async () => {
        const first = await store.credentials.search('demo', { limit: 2 })
        expect(first.map((c) => c.jti)).toEqual(['j4', 'j3'])
        const last = first[1]!
        expect(await jtis({ limit: 2, after: { issuedAt: last.issuedAt, jti: last.jti } })).toEqual(['j2', 'j1'])
        expect(await jtis({ limit: 2, after: { issuedAt: now - 30, jti: 'j1' } })).toEqual([])
      })
    })

    describe('session reports', () => {
      const limits = { maxNodes: 2, maxSessions: 3, freshSince: now - 60 }
      const session = (connection: string, fields: Partial<ReportedSession> = {}): Omit<ReportedSession, 'broker' | 'node'> => ({
        connection,
        clientId: `client-${connection}`,
        username: null,
        jti: `jti-${connection}`,
        connectedAt: now,
        expiresAt: now + 600,
        remoteAddress: '127.0.0.1',
        ...fields,
      })
      const report = (node: string, seq: number, fields: Partial<SessionReport> = {}): SessionReport => ({
        broker: 'demo',
        node,
        seq,
        reset: false,
        connected: [],
        disconnected: [],
        at: now,
        ...fields,
      })
      const listed = async (query: Partial<Parameters<Store['sessions']['list']>[1]> = {}) =>
        (await store.sessions.list('demo', { freshSince: now - 60, limit: 100, ...query })).map((s) => `${s.node}/${s.connection}`)

      it('applies a reset and then reports in sequence, listing the sessions most recently connected first', async () => {
        expect(await store.sessions.apply(report('a', 1, { reset: true, connected: [session('1', { connectedAt: now - 5 }), session('2')] }), limits)).toEqual({
          applied: true,
          revision: 1,
          sessions: 2,
        })
        expect(await store.sessions.apply(report('a', 2, { disconnected: ['1'] }), limits)).toEqual({ applied: true, revision: 2, sessions: 1 })
        expect(await store.sessions.list('demo', { freshSince: now - 60, limit: 10 })).toEqual([{ broker: 'demo', node: 'a', ...session('2') }])
        expect(await store.sessions.nodes('demo', now - 60)).toEqual([{ broker: 'demo', node: 'a', seq: 2, reportedAt: now, sessions: 1 }])
      })

      it('refuses a report out of sequence (or from a node it never heard reset) and writes nothing', async () => {
        expect(await store.sessions.apply(report('a', 1, { connected: [session('1')] }), limits)).toEqual({
          applied: false,
          reason: 'out-of-sequence',
          expectedSeq: null,
        })
        await store.sessions.apply(report('a', 5, { reset: true }), limits)
        expect(await store.sessions.apply(report('a', 7, { connected: [session('1')] }), limits)).toEqual({
          applied: false,
          reason: 'out-of-sequence',
          expectedSeq: 6,
        })
        expect(await listed()).toEqual([])
        expect(await store.sessions.revision('demo')).toBe(0)
      })

      it('bumps the revision only when a session changed: a heartbeat (an empty report) keeps it and freshens the node', async () => {
        await store.sessions.apply(report('a', 1, { reset: true, connected: [session('1')], at: now - 50 }), limits)
        expect(await store.sessions.apply(report('a', 2, { at: now }), limits)).toEqual({ applied: true, revision: 1, sessions: 1 })
        expect((await store.sessions.nodes('demo', now - 1)).map((n) => n.node)).toEqual(['a'])
      })

      it('a reset forgets what the node reported before; a connection id reported again replaces its session', async () => {
        await store.sessions.apply(report('a', 1, { reset: true, connected: [session('1'), session('2')] }), limits)
        await store.sessions.apply(report('a', 2, { connected: [session('2', { clientId: 'again' })] }), limits)
        expect((await store.sessions.list('demo', { freshSince: 0, limit: 10 })).find((s) => s.connection === '2')?.clientId).toBe('again')
        expect(await store.sessions.apply(report('a', 9, { reset: true, connected: [session('3')] }), limits)).toEqual({
          applied: true,
          revision: 3,
          sessions: 1,
        })
        expect(await listed()).toEqual(['a/3'])
      })

      it('keeps nodes apart, hides the sessions of nodes that stopped reporting, and prunes them', async () => {
        await store.sessions.apply(report('a', 1, { reset: true, connected: [session('1')], at: now - 100 }), limits)
        await store.sessions.apply(report('b', 1, { reset: true, connected: [session('1', { connectedAt: now - 1 })] }), limits)
        expect(await listed({ freshSince: 0 })).toEqual(['a/1', 'b/1'])
        expect(await listed()).toEqual(['b/1'])
        expect(await listed({ freshSince: 0, node: 'a' })).toEqual(['a/1'])
        expect(await store.sessions.prune(now - 60)).toBe(1)
        expect(await listed({ freshSince: 0 })).toEqual(['b/1'])
        expect((await store.sessions.nodes('demo', 0)).map((n) => n.node)).toEqual(['b'])
      })

      it('filters by client id, jti and a part of either', async () => {
        await store.sessions.apply(
          report('a', 1, { reset: true, connected: [session('1', { clientId: 'gw-1', jti: 'J-A' }), session('2', { clientId: 'sensor', jti: 'J-B' })] }),
          limits,
        )
        expect(await listed({ clientId: 'gw-1' })).toEqual(['a/1'])
        expect(await listed({ jti: 'J-B' })).toEqual(['a/2'])
        expect(await listed({ contains: 'ens' })).toEqual(['a/2'])
        expect(await listed({ contains: 'J-' })).toEqual(['a/1', 'a/2'])
        expect(await listed({ limit: 1 })).toHaveLength(1)
      })

      it('caps the nodes and the sessions of a broker (fresh nodes only), writing nothing over a cap', async () => {
        await store.sessions.apply(report('a', 1, { reset: true, connected: [session('1'), session('2')] }), limits)
        await store.sessions.apply(report('b', 1, { reset: true }), limits)
        expect(await store.sessions.apply(report('c', 1, { reset: true }), limits)).toEqual({ applied: false, reason: 'too-many-nodes', limit: 2 })
        expect(await store.sessions.apply(report('b', 2, { connected: [session('3'), session('4')] }), limits)).toEqual({
          applied: false,
          reason: 'too-many-sessions',
          limit: 3,
        })
        expect(await listed()).toEqual(['a/1', 'a/2'])
        // The refused report left the node's sequence where it was.
        expect(await store.sessions.apply(report('b', 2, { connected: [session('3')] }), limits)).toEqual({ applied: true, revision: 2, sessions: 1 })
        // A node that stopped reporting no longer counts against the caps.
        expect(await store.sessions.apply(report('c', 1, { reset: true, at: now }), { ...limits, freshSince: now + 1 })).toMatchObject({ applied: true })
      })

      it('keeps brokers apart', async () => {
        await store.sessions.apply(report('a', 1, { reset: true, connected: [session('1')] }), limits)
        await store.sessions.apply({ ...report('a', 1, { reset: true, connected: [session('1')] }), broker: 'other' }, limits)
        expect(await store.sessions.revision('demo')).toBe(1)
        expect(await store.sessions.revision('other')).toBe(1)
        await store.sessions.apply(report('a', 2, { disconnected: ['1'] }), limits)
        expect(await listed()).toEqual([])
        expect(await store.sessions.list('other', { freshSince: 0, limit: 10 })).toHaveLength(1)
      })

      it("tells watchers which broker's sessions changed after the commit, and not after a heartbeat", async () => {
        const seen: string[] = []
        let wake: () => void = () => {}
        const watching = store.sessions.watch((b) => {
          seen.push(b)
          wake()
        })
        await watching.ready
        const next = () =>
          new Promise<void>((resolve) => {
            wake = resolve
          })
        let woken = next()
        await store.sessions.apply(report('a', 1, { reset: true, connected: [session('1')] }), limits)
        await woken
        await store.sessions.apply(report('a', 2), limits)
        woken = next()
        await store.sessions.apply(report('a', 3, { disconnected: ['1'] }), limits)
        await woken
        expect(seen).toEqual(['demo', 'demo'])
        watching.stop()
      })
    })
  })
}
