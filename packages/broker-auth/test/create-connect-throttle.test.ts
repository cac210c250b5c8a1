import { describe, expect, it } from 'vitest'
import { createConnectThrottle } from '../src/index.js'

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_800_000_000_000
  return { now: () => t, advance: (ms) => void (t += ms) }
}

describe('createConnectThrottle (per-address budget of failed CONNECTs)', () => {
  it('holds an address off once it spends its budget, and no other address', () => {
    const c = clock()
    const throttle = createConnectThrottle({ maxFailures: 3, windowMs: 60_000, holdMs: 10_000, now: c.now })
    expect([1, 2, 3].map(() => throttle.fail('10.0.0.1'))).toEqual([0, 0, 0])
    expect(throttle.heldFor('10.0.0.1')).toBe(0)
    expect(throttle.fail('10.0.0.1')).toBe(10_000)
    expect(throttle.heldFor('10.0.0.1')).toBe(10_000)
    expect(throttle.heldFor('10.0.0.2')).toBe(0)
    c.advance(9_999)
    expect(throttle.heldFor('10.0.0.1')).toBe(1)
    c.advance(1)
    expect(throttle.heldFor('10.0.0.1')).toBe(0)
  })

  it('doubles the hold-off each time the address spends its budget again, up to the longest', () => {
    const c = clock()
    const throttle = createConnectThrottle({ maxFailures: 1, windowMs: 60_000, holdMs: 10_000, maxHoldMs: 30_000, now: c.now })
    const spend = (): number => {
      throttle.fail('a')
      return throttle.fail('a')
    }
    expect(spend()).toBe(10_000)
    c.advance(10_000)
    expect(spend()).toBe(20_000)
    c.advance(20_000)
    expect(spend()).toBe(30_000)
    c.advance(30_000)
    expect(spend()).toBe(30_000)
  })

  it('forgets failures older than the window, and the doubling after a quiet spell', () => {
    const c = clock()
    const throttle = createConnectThrottle({ maxFailures: 2, windowMs: 60_000, holdMs: 10_000, maxHoldMs: 40_000, now: c.now })
    throttle.fail('a')
    throttle.fail('a')
    c.advance(60_000)
    expect(throttle.fail('a')).toBe(0)
    throttle.fail('a')
    expect(throttle.fail('a')).toBe(10_000)
    // quiet for longer than the longest hold-off after this one ended: back to the first hold-off
    c.advance(10_000 + 40_001)
    throttle.fail('a')
    throttle.fail('a')
    expect(throttle.fail('a')).toBe(10_000)
  })

  it('is off with a budget of 0', () => {
    const throttle = createConnectThrottle({ maxFailures: 0 })
    for (let i = 0; i < 100; i++) expect(throttle.fail('a')).toBe(0)
    expect(throttle.heldFor('a')).toBe(0)
  })

  it('remembers at most maxAddresses addresses', () => {
    const throttle = createConnectThrottle({ maxAddresses: 2 })
    for (const a of ['a', 'b', 'c', 'b']) throttle.fail(a)
    expect(throttle.size).toBe(2)
  })
})
