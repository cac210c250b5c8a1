import { describe, expect, it } from 'vitest'
import { addedRatioInterval } from '../bench/lib/connect-rounds.js'

describe("bench:connect's interval for a ratio of added CPU", () => {
  it('is one point when every round shows the same ratio', () => {
    const base = [400, 350, 420, 380]
    const yardstick = base.map((b) => b + 200)
    const measured = base.map((b) => b + 250)
    expect(addedRatioInterval(measured, yardstick, base)).toEqual([1.25, 1.25])
  })

  it('brackets the ratio of the sums, and widens with the noise of the rounds', () => {
    const rounds = 60
    const base = Array.from({ length: rounds }, (_, i) => 400 + ((i * 37) % 50))
    const yardstick = base.map((b) => b + 200)
    const steady = base.map((b) => b + 240)
    const noisy = base.map((b, i) => b + 240 + (i % 2 === 0 ? 120 : -120))
    const [lo, hi] = addedRatioInterval(steady, yardstick, base)
    const [noisyLo, noisyHi] = addedRatioInterval(noisy, yardstick, base)
    expect([lo, hi]).toEqual([1.2, 1.2])
    expect(noisyLo).toBeLessThan(1.2)
    expect(noisyHi).toBeGreaterThan(1.2)
    expect(noisyHi - noisyLo).toBeGreaterThan(0.1)
    // the same rounds give the same interval (a fixed seed)
    expect(addedRatioInterval(noisy, yardstick, base)).toEqual([noisyLo, noisyHi])
  })

  it('refuses lists of different lengths', () => {
    expect(() => addedRatioInterval([1, 2], [1], [1, 2])).toThrow(RangeError)
  })
})
