import { describe, expect, it } from 'vitest'
import { createReconnectPolicy } from '../src/lib/reconnect-policy.js'

describe('createReconnectPolicy (exponential back-off, full jitter)', () => {
  it('doubles the window per failure up to the cap', () => {
    const policy = createReconnectPolicy({ retryMs: 1000, maxRetryMs: 30_000 })
    expect([1, 2, 3, 4, 5, 6, 7].map(policy.window)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
  })

  it('draws each wait uniformly from the whole window', () => {
    const at = (random: number) => createReconnectPolicy({ retryMs: 1000, maxRetryMs: 30_000, random: () => random })
    expect(at(0).delay(3)).toBe(0)
    expect(at(0.5).delay(3)).toBe(2000)
    expect(at(0.999_999).delay(3)).toBe(3999)
    expect(at(0.999_999).delay(40)).toBe(29_999)
  })

  it('spreads a thousand brokers over the first window instead of one instant', () => {
    const policy = createReconnectPolicy({ retryMs: 1000, maxRetryMs: 30_000 })
    const delays = Array.from({ length: 1000 }, () => policy.delay(1))
    const perTenth = new Array<number>(10).fill(0)
    for (const d of delays) perTenth[Math.floor(d / 100)]! += 1
    // uniform: about 100 per 100 ms slice; no slice takes even a quarter of the fleet
    expect(Math.max(...perTenth)).toBeLessThan(250)
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(1000)
  })
})
