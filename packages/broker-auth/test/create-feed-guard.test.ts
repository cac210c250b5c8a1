import { describe, expect, it } from 'vitest'
import { createFeedGuard } from '../src/index.js'
import type { RevocationFollowerState } from '../src/index.js'

function setup(policy?: 'fail-closed' | 'fail-open') {
  const clock = { ms: 1_000_000 }
  const state: { lastContactAt: number | null } = { lastContactAt: null }
  const follower = { state: (): RevocationFollowerState => ({ revision: 1, mode: 'stream', lastContactAt: state.lastContactAt, size: 0 }) }
  const logs: string[] = []
  const guard = createFeedGuard({ follower, maxStaleMs: 10_000, policy, now: () => clock.ms, log: (level, msg) => logs.push(`${level} ${msg}`) })
  return { clock, state, guard, logs }
}

const codeOf = (fn: () => void): string => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code ?? 'not ours'
  }
  return 'ok'
}

describe('createFeedGuard: feed-unreachable policy', () => {
  it('fails closed by default once the feed has been out of reach longer than maxStaleMs, and recovers', () => {
    const { clock, state, guard, logs } = setup()
    expect(codeOf(guard.check)).toBe('ERR_REVOCATIONS_UNAVAILABLE') // never reached
    state.lastContactAt = clock.ms
    expect(codeOf(guard.check)).toBe('ok')
    clock.ms += 10_000
    expect(codeOf(guard.check)).toBe('ok')
    expect(guard.lagMs()).toBe(10_000)
    clock.ms += 1
    expect(codeOf(guard.check)).toBe('ERR_REVOCATIONS_UNAVAILABLE')
    expect(codeOf(guard.check)).toBe('ERR_REVOCATIONS_UNAVAILABLE')
    state.lastContactAt = clock.ms
    expect(codeOf(guard.check)).toBe('ok')
    // one line per transition, not one per CONNECT
    expect(logs).toEqual([
      'error revocation feed unreachable beyond the limit',
      'info revocation feed reachable again',
      'error revocation feed unreachable beyond the limit',
      'info revocation feed reachable again',
    ])
  })

  it('fail-open accepts while logging the stale feed', () => {
    const { clock, state, guard, logs } = setup('fail-open')
    state.lastContactAt = clock.ms
    clock.ms += 60_000
    expect(codeOf(guard.check)).toBe('ok')
    expect(logs).toEqual(['error revocation feed unreachable beyond the limit'])
  })
})
