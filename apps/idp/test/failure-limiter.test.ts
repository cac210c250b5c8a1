import { describe, expect, it } from 'vitest'
import { createFailureLimiter } from '../src/lib/failure-limiter.js'

describe('createFailureLimiter', () => {
  it('blocks a key over its budget until its window ends', () => {
    let now = 0
    const limiter = createFailureLimiter({ limit: 2, windowSeconds: 900 }, () => now)
    limiter.fail('k')
    expect(limiter.retryAfter('k')).toBe(0)
    limiter.fail('k')
    now = 100_000
    expect(limiter.retryAfter('k')).toBe(800)
    expect(limiter.retryAfter('other')).toBe(0)
    now = 900_000
    expect(limiter.retryAfter('k')).toBe(0)
    expect(limiter.count('k')).toBe(0)
  })

  it('with a back-off, makes each further attempt wait a delay that doubles per failure up to its maximum: never a lock', () => {
    let now = 0
    const limiter = createFailureLimiter({ limit: 3, windowSeconds: 86400, backoff: { baseSeconds: 1, maxSeconds: 60 } }, () => now)
    for (let i = 0; i < 3; i++) limiter.fail('k')
    const waits: number[] = []
    for (let i = 0; i < 9; i++) {
      waits.push(limiter.retryAfter('k'))
      now += waits.at(-1)! * 1000
      expect(limiter.retryAfter('k')).toBe(0)
      limiter.fail('k')
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60])
    // The window's end forgets everything.
    now = 86_400_000
    expect(limiter.retryAfter('k')).toBe(0)
  })

  it('forgets windows once they have ended, so keys that stop failing leave no trace', () => {
    let now = 0
    const limiter = createFailureLimiter({ limit: 5, windowSeconds: 60 }, () => now)
    for (let i = 0; i < 1000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`)
    expect(limiter.size).toBe(1000)
    now = 61_000
    limiter.fail('10.9.9.9')
    expect(limiter.size).toBe(1)
  })

  it('forgets a key on reset (a successful login), and counts only what failed', () => {
    let now = 0
    const limiter = createFailureLimiter({ limit: 1, windowSeconds: 60 }, () => now)
    limiter.fail('k')
    limiter.fail('k')
    expect([limiter.count('k'), limiter.retryAfter('k')]).toEqual([2, 60])
    now = 30_500
    expect(limiter.retryAfter('k')).toBe(30)
    limiter.reset('k')
    expect([limiter.count('k'), limiter.retryAfter('k')]).toEqual([0, 0])
  })
})
