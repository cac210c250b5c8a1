import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConnectToken } from '../src/connect-with-token.js'
import { LoginRequired } from '../src/errors.js'
import { scheduleRenewal } from '../src/lib/schedule-renewal.js'

// Time is fake here (vi.useFakeTimers moves Date and setTimeout together), so
// the renewal times below are exactly the ones the schedule chose.

const T0 = Date.UTC(2030, 0, 1)
const token = (lifetimeSeconds: number, n = 1): ConnectToken => ({ token: `t${n}`, clientId: 'gw', expiresAt: (Date.now() + lifetimeSeconds * 1000) / 1000 })

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('scheduleRenewal: when a fleet renews', () => {
  it('spreads the renewals of tokens issued together over the last quarter before the renewal point, all before expiry', async () => {
    // 90 s tokens, renewBeforeSeconds 60 -> capped at 45 s: the latest renewal is at +45 s
    const calls: number[] = []
    const schedules = Array.from({ length: 50 }, () =>
      scheduleRenewal(token(90), {
        renewBeforeSeconds: 60,
        getToken: async () => {
          calls.push(Date.now() - T0)
          return { token: 'renewed', clientId: 'gw' } // no expiresAt: nothing more to schedule
        },
        onToken: () => undefined,
        onError: () => undefined,
      }),
    )
    await vi.advanceTimersByTimeAsync(90_000)
    schedules.forEach((s) => s.stop())
    expect(calls).toHaveLength(50)
    expect(Math.min(...calls)).toBeGreaterThanOrEqual(33_750) // 45 s - 25 % of 45 s
    expect(Math.max(...calls)).toBeLessThanOrEqual(45_000)
    // not in lockstep: 50 clients, 11.25 s of spread
    expect(new Set(calls).size).toBeGreaterThan(40)
    expect(Math.max(...calls) - Math.min(...calls)).toBeGreaterThan(5_000)
  })

  it.each([
    [0, 3540_000],
    [0.5, 3097_500],
  ])('with a draw of %s, renews a 1 h token at +%s ms: the latest point is 60 s before expiry', async (draw, expected) => {
    const at: number[] = []
    const s = scheduleRenewal(token(3600), {
      renewBeforeSeconds: 60,
      random: () => draw,
      getToken: async () => {
        at.push(Date.now() - T0)
        return { token: 'x', clientId: 'gw' }
      },
      onToken: () => undefined,
      onError: () => undefined,
    })
    await vi.advanceTimersByTimeAsync(3600_000)
    s.stop()
    expect(at).toEqual([expected])
  })

  it('retries a failed renewal with growing, jittered delays, capped at half the time left, until the token expires', async () => {
    const runs = [0, 1].map(() => {
      const calls: number[] = []
      const errors: unknown[] = []
      const s = scheduleRenewal(token(90), {
        renewBeforeSeconds: 45,
        getToken: async () => {
          calls.push(Date.now() - T0)
          throw new Error('exchange unreachable')
        },
        onToken: () => undefined,
        onError: (err) => errors.push(err),
      })
      return { calls, errors, s }
    })
    await vi.advanceTimersByTimeAsync(90_000)
    for (const { calls, errors, s } of runs) {
      s.stop()
      expect(errors).toHaveLength(calls.length)
      expect(calls.every((t) => t < 90_000)).toBe(true)
      const delays = calls.slice(1).map((t, i) => t - calls[i]!)
      // ceilings 1, 2, 4, 8, 16, 30 s; each delay in [ceiling / 2, ceiling], and never beyond half the time left
      delays.forEach((d, i) => {
        const ceiling = Math.min(30_000, 1000 * 2 ** i)
        const halfLeft = (90_000 - calls[i]!) / 2
        expect(d).toBeGreaterThanOrEqual(Math.min(ceiling / 2, halfLeft) - 1)
        expect(d).toBeLessThanOrEqual(Math.min(ceiling, halfLeft) + 1)
      })
      expect(delays.length).toBeGreaterThanOrEqual(5)
    }
    expect(runs[0]!.calls).not.toEqual(runs[1]!.calls)
  })

  it('starts the back-off over after a success', async () => {
    let n = 0
    const calls: number[] = []
    const s = scheduleRenewal(token(90), {
      renewBeforeSeconds: 45,
      getToken: async () => {
        calls.push(Date.now() - T0)
        n += 1
        if (n % 4 !== 0) throw new Error('exchange unreachable')
        return token(90, n)
      },
      onToken: () => undefined,
      onError: () => undefined,
    })
    await vi.advanceTimersByTimeAsync(140_000)
    s.stop()
    // call 4 succeeded; call 5 is the next planned renewal; call 6 the first retry after it: within 1 s again
    expect(calls.length).toBeGreaterThanOrEqual(6)
    expect(calls[5]! - calls[4]!).toBeGreaterThanOrEqual(500)
    expect(calls[5]! - calls[4]!).toBeLessThanOrEqual(1000)
  })

  it('does not retry LoginRequired: a person must log in again', async () => {
    let calls = 0
    const s = scheduleRenewal(token(90), {
      renewBeforeSeconds: 45,
      getToken: async () => {
        calls += 1
        throw new LoginRequired()
      },
      onToken: () => undefined,
      onError: () => undefined,
    })
    await vi.advanceTimersByTimeAsync(90_000)
    s.stop()
    expect(calls).toBe(1)
  })
})
