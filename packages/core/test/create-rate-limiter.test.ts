import { describe, expect, it } from 'vitest'
import { createRateLimiter } from '../src/create-rate-limiter.js'

const limit = { requests: 3, windowSeconds: 60 }

describe('createRateLimiter', () => {
  it('counts units per key in a fixed window and tells when the next ones fit', () => {
    const limiter = createRateLimiter()
    expect(limiter.take('a', 2, limit, 1000)).toBe(0)
    expect(limiter.take('a', 2, limit, 1010)).toBe(50)
    expect(limiter.used('a', 1010)).toBe(2)
    expect(limiter.take('a', 1, limit, 1010)).toBe(0)
    expect(limiter.wait('a', 1, limit, 1059)).toBe(1)
    expect(limiter.take('b', 3, limit, 1010)).toBe(0)
    expect(limiter.take('a', 3, limit, 1060)).toBe(0)
  })

  it('counts nothing for a refused call, so retrying when told costs no budget', () => {
    const limiter = createRateLimiter()
    limiter.take('a', 3, limit, 0)
    for (let i = 0; i < 10; i++) expect(limiter.take('a', 1, limit, 30)).toBe(30)
    expect(limiter.used('a', 30)).toBe(3)
    expect(limiter.take('a', 3, limit, 60)).toBe(0)
  })

  it('forgets windows once they have ended', () => {
    const limiter = createRateLimiter()
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`, 1, limit, 0)
    expect(limiter.size).toBe(1000)
    limiter.take('late', 1, limit, 61)
    expect(limiter.size).toBe(1)
  })

  it('holds at most maxKeys windows, dropping the oldest first', () => {
    const limiter = createRateLimiter(100)
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`, 1, limit, 5)
    expect(limiter.size).toBe(100)
    expect(limiter.used('k9999', 5)).toBe(1)
    expect(limiter.used('k0', 5)).toBe(0)
  })
})
