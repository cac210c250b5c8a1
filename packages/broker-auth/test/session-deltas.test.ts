import { describe, expect, it } from 'vitest'
import { createSessionDeltas } from '../src/lib/session-deltas.js'

const session = (clientId: string) => ({ clientId, username: null, jti: `jti-${clientId}`, connectedAt: 1, expiresAt: null, remoteAddress: null })

describe('session deltas (what a node has yet to report)', () => {
  it('starts with a reset of everything it holds, then reports changes only', () => {
    const d = createSessionDeltas(10)
    const a = {}
    const b = {}
    d.connected(a, session('a'))
    expect(d.next()).toEqual({ reset: true, connected: [{ connection: '0', ...session('a') }], disconnected: [] })
    d.sent()
    expect(d.pending()).toBe(false)
    d.connected(b, session('b'))
    expect(d.disconnected(a)).toBe(true)
    expect(d.next()).toEqual({ reset: false, connected: [{ connection: '1', ...session('b') }], disconnected: ['0'] })
    d.sent()
    expect(d.size).toBe(1)
  })

  it('never reports a session that came and went between two reports', () => {
    const d = createSessionDeltas(10)
    d.next()
    d.sent()
    const a = {}
    d.connected(a, session('a'))
    expect(d.disconnected(a)).toBe(false)
    expect(d.pending()).toBe(false)
    expect(d.disconnected({})).toBe(false)
  })

  it('reports the end of a session whose start is in flight', () => {
    const d = createSessionDeltas(10)
    const a = {}
    d.connected(a, session('a'))
    d.next() // in flight: the reset carrying a
    expect(d.disconnected(a)).toBe(true)
    d.sent()
    expect(d.next()).toEqual({ reset: false, connected: [], disconnected: ['0'] })
  })

  it('after a lost report, resends everything it holds as a reset, at most maxPerReport at a time', () => {
    const d = createSessionDeltas(2)
    d.next()
    d.sent()
    const keys = [{}, {}, {}]
    keys.forEach((k, i) => d.connected(k, session(`c${i}`)))
    d.next()
    d.lost()
    expect(d.next()).toMatchObject({ reset: true, connected: [{ clientId: 'c0' }, { clientId: 'c1' }], disconnected: [] })
    d.sent()
    expect(d.next()).toMatchObject({ reset: false, connected: [{ clientId: 'c2' }], disconnected: [] })
  })

  it('a connection that authenticates again replaces its session under a new id', () => {
    const d = createSessionDeltas(10)
    d.next()
    d.sent()
    const a = {}
    d.connected(a, session('a'))
    d.next()
    d.sent()
    d.connected(a, session('a2'))
    expect(d.next()).toEqual({ reset: false, connected: [{ connection: '1', ...session('a2') }], disconnected: ['0'] })
  })
})
