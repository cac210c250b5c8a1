import { describe, expect, it } from 'vitest'
import { createSessionRegistry } from '../src/lib/session-registry.js'
import type { Session } from '../src/lib/session-registry.js'

const ACL = { pub: ['devices/${clientid}/#'], sub: [] }
const session = (clientid: string, jti: string): Session => ({ clientid, username: undefined, jti, exp: undefined, acl: ACL, ended: undefined })

describe('createSessionRegistry', () => {
  it('finds sessions by connection and by jti, one connection or several per jti', () => {
    const registry = createSessionRegistry<object>()
    const [a, b, c] = [{}, {}, {}]
    registry.start(a, session('a', 'j1'))
    registry.start(b, session('b', 'j1'))
    registry.start(c, session('c', 'j2'))
    expect(registry.size).toBe(3)
    expect(registry.withJti('j1')).toEqual([a, b])
    expect(registry.withJti('j2')).toEqual([c])
    expect(registry.withJti('j3')).toEqual([])
    expect(registry.get(b)?.clientid).toBe('b')
    expect(registry.keys()).toHaveLength(3)
  })

  it('ends a session once, with the first reason, and keeps it readable afterwards', () => {
    const registry = createSessionRegistry<object>()
    const [a, b] = [{}, {}]
    registry.start(a, session('a', 'j1'))
    registry.start(b, session('b', 'j1'))
    expect(registry.end(a, 'revoked')?.clientid).toBe('a')
    expect(registry.end(a, 'closed')).toBeUndefined()
    expect(registry.get(a)?.ended).toBe('revoked')
    expect(registry.withJti('j1')).toEqual([b])
    expect(registry.size).toBe(1)
    registry.end(b, 'expired')
    expect(registry.withJti('j1')).toEqual([])
    expect(registry.keys()).toEqual([])
    expect(registry.size).toBe(0)
  })

  it('replaces the session of a connection that authenticates again', () => {
    const registry = createSessionRegistry<object>()
    const a = {}
    const first = session('a', 'j1')
    registry.start(a, first)
    registry.start(a, session('a', 'j2'))
    expect(first.ended).toBe('closed')
    expect(registry.withJti('j1')).toEqual([])
    expect(registry.withJti('j2')).toEqual([a])
    expect(registry.size).toBe(1)
  })

  it('tells its observer once when each session starts and once when it ends, whatever the reason', () => {
    const seen: string[] = []
    const registry = createSessionRegistry<object>({
      started: (_key, s) => seen.push(`start ${s.jti}`),
      ended: (_key, s) => seen.push(`end ${s.jti} ${s.ended}`),
    })
    const a = {}
    registry.start(a, session('a', 'j1'))
    registry.start(a, session('a', 'j2'))
    registry.end(a, 'revoked')
    registry.end(a, 'closed')
    expect(seen).toEqual(['start j1', 'end j1 closed', 'start j2', 'end j2 revoked'])
  })
})
