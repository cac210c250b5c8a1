import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createExpirySchedule } from '../src/lib/expiry-schedule.js'

const T0 = 1_800_000_000

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(T0 * 1000)
})
afterEach(() => vi.useRealTimers())

describe('createExpirySchedule', () => {
  it('fires each key at its expiry second, in order, from one timer', () => {
    const fired: string[] = []
    const schedule = createExpirySchedule<string>((key) => fired.push(key))
    schedule.add('b', T0 + 20)
    schedule.add('a', T0 + 10)
    schedule.add('a2', T0 + 10)
    schedule.add('c', T0 + 30)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(9_999)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['a', 'a2'])
    vi.advanceTimersByTime(20_000)
    expect(fired).toEqual(['a', 'a2', 'b', 'c'])
    expect(schedule.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('forgets deleted keys and re-arms for the next bucket', () => {
    const fired: string[] = []
    const schedule = createExpirySchedule<string>((key) => fired.push(key))
    schedule.add('a', T0 + 10)
    schedule.add('b', T0 + 20)
    schedule.delete('a', T0 + 10)
    schedule.delete('missing', T0 + 10)
    expect(schedule.size).toBe(1)
    vi.advanceTimersByTime(19_999)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['b'])
  })

  it('fires an already past expiry at once', () => {
    const fired: string[] = []
    const schedule = createExpirySchedule<string>((key) => fired.push(key))
    schedule.add('late', T0 - 5)
    vi.advanceTimersByTime(0)
    expect(fired).toEqual(['late'])
  })

  it('waits past the 24.8-day setTimeout ceiling by re-arming', () => {
    const fired: string[] = []
    const schedule = createExpirySchedule<string>((key) => fired.push(key))
    const days40 = 40 * 86_400
    schedule.add('far', T0 + days40)
    vi.advanceTimersByTime((days40 - 1) * 1000)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1000)
    expect(fired).toEqual(['far'])
  })

  it('fires nothing after close()', () => {
    const fired: string[] = []
    const schedule = createExpirySchedule<string>((key) => fired.push(key))
    schedule.add('a', T0 + 1)
    schedule.close()
    vi.advanceTimersByTime(5000)
    expect(fired).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })
})
