import { describe, expect, it } from 'vitest'
import { createRevocationState } from '../src/lib/revocation-state.js'
import type { LogFn } from '../src/index.js'

const quiet: LogFn = () => {}

describe('createRevocationState', () => {
  it('tells listeners what a snapshot added and removed', () => {
    const state = createRevocationState(quiet, {})
    const heard: string[] = []
    state.on('revoked', (jti) => heard.push(`+${jti}`))
    state.on('unrevoked', (jti) => heard.push(`-${jti}`))
    state.load({
      revision: 2,
      revoked: [
        { jti: 'a', expiresAt: null },
        { jti: 'b', expiresAt: null },
      ],
    })
    state.load({
      revision: 3,
      revoked: [
        { jti: 'b', expiresAt: null },
        { jti: 'c', expiresAt: null },
      ],
    })
    expect(heard).toEqual(['+a', '+b', '+c', '-a'])
    expect({ revision: state.revision, size: state.size, a: state.has('a'), c: state.has('c') }).toEqual({ revision: 3, size: 2, a: false, c: true })
  })

  it('applies an event only when its revision is newer, and only reports real changes', () => {
    const state = createRevocationState(quiet, {})
    const heard: string[] = []
    state.on('revoked', (jti) => heard.push(jti))
    state.apply({ revision: 1, jti: 'a', action: 'revoke', expiresAt: null })
    state.apply({ revision: 1, jti: 'z', action: 'revoke', expiresAt: null })
    state.apply({ revision: 2, jti: 'a', action: 'revoke', expiresAt: null })
    expect(heard).toEqual(['a'])
    expect(state.revision).toBe(2)
    expect(state.has('z')).toBe(false)
  })

  it('keeps telling the other listeners when one throws, and logs it', () => {
    const lines: string[] = []
    const state = createRevocationState((level, msg) => lines.push(`${level} ${msg}`), {})
    const heard: string[] = []
    state.on('revoked', () => {
      throw new Error('boom')
    })
    state.on('revoked', (jti) => heard.push(jti))
    state.apply({ revision: 1, jti: 'a', action: 'revoke', expiresAt: null })
    expect(heard).toEqual(['a'])
    expect(lines).toContain('error revocation listener failed')
  })

  it('stops telling a listener once it unsubscribed', () => {
    const state = createRevocationState(quiet, {})
    const heard: string[] = []
    const off = state.on('revoked', (jti) => heard.push(jti))
    off()
    state.apply({ revision: 1, jti: 'a', action: 'revoke', expiresAt: null })
    expect(heard).toEqual([])
  })
})
