import { describe, expect, it } from 'vitest'
import { formatDuration, NO_EXPIRATION, parseDuration } from '../src/parse-duration.js'

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['48h', 172800],
    ['7d', 604800],
    ['2w', 1209600],
    ['3600', 3600],
    [3600, 3600],
    [' 48H ', 172800],
    ['1', 1],
  ] as const)('reads %j as %i seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds)
  })

  it('reads -1 (number or string) as no expiration', () => {
    expect(parseDuration(-1)).toBe(NO_EXPIRATION)
    expect(parseDuration('-1')).toBe(NO_EXPIRATION)
  })

  it.each(['', '0', '0s', '-2', '1.5h', 'h', '10y', '48 h', 'abc', '-1d', '1e3'])('refuses %j with ERR_INVALID_REQUEST', (input) => {
    expect(() => parseDuration(input)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_REQUEST' }))
  })

  it.each([0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses the number %s', (input) => {
    expect(() => parseDuration(input)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_REQUEST' }))
  })

  it('formats seconds in the largest exact unit', () => {
    expect(formatDuration(172800)).toBe('2d')
    expect(formatDuration(90)).toBe('90s')
    expect(formatDuration(3600)).toBe('1h')
    expect(formatDuration(NO_EXPIRATION)).toBe('-1')
  })
})
