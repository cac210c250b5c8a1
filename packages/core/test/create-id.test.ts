import { describe, expect, it } from 'vitest'
import { createId } from '../src/create-id.js'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** The milliseconds a ULID's first 10 characters hold. */
const timeOf = (id: string): number => [...id.slice(0, 10)].reduce((t, c) => t * 32 + CROCKFORD.indexOf(c), 0)

describe('createId', () => {
  it('makes ULIDs: 26 Crockford base32 characters whose first 10 are the time in milliseconds', () => {
    const now = Date.now()
    const id = createId(now)
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(timeOf(id)).toBe(now)
    expect(createId(0).slice(0, 10)).toBe('0000000000')
    expect(createId(2 ** 48 - 1).slice(0, 10)).toBe('7ZZZZZZZZZ')
  })

  it('sorts by creation time, and never repeats (80 random bits each)', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => createId(1_700_000_000_000 + Math.floor(i / 100)))
    expect(new Set(ids).size).toBe(ids.length)
    const first = ids.filter((_, i) => i % 100 === 0)
    expect([...first].sort()).toEqual(first)
    // Every character of the alphabet turns up in the random part: no bias towards a subset.
    expect(new Set(ids.flatMap((id) => [...id.slice(10)])).size).toBe(32)
  })

  it('refuses a time a ULID cannot hold', () => {
    expect(() => createId(-1)).toThrow(RangeError)
    expect(() => createId(2 ** 48)).toThrow('createId: time 281474976710656 is outside 0..2^48-1 ms')
  })
})
