import { InvalidRequest } from './errors.js'

/** The expiration value that means "no `exp` at all" (admin issuance only). */
export const NO_EXPIRATION = -1

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/**
 * Parses an expiration/duration into whole seconds.
 *
 * Accepts a positive integer of seconds (number or digits), a number with a
 * unit (`30s`, `15m`, `48h`, `7d`, `2w`), or `-1` / `"-1"` for "never expires"
 * (returned as `NO_EXPIRATION`). Anything else (zero, fractions, other
 * negatives, unknown units, empty) throws `InvalidRequest`.
 *
 * @example parseDuration('48h') // 172800
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return checkSeconds(input, String(input))
  const text = input.trim().toLowerCase()
  if (text === '-1') return NO_EXPIRATION
  const m = /^(\d{1,12})([smhdw]?)$/.exec(text)
  if (!m) throw new InvalidRequest(`invalid duration "${input}": use seconds or a number with s, m, h, d or w (e.g. 48h, 7d), or -1 for none`)
  const value = Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] ?? 1)
  return checkSeconds(value, input)
}

function checkSeconds(value: number, shown: string): number {
  if (value === NO_EXPIRATION) return NO_EXPIRATION
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidRequest(`invalid duration "${shown}": must be a whole number of seconds greater than 0, or -1 for none`)
  }
  return value
}

/** Formats seconds back into the largest exact unit (`172800` -> `"2d"`); `-1` stays `"-1"`. */
export function formatDuration(seconds: number): string {
  if (seconds === NO_EXPIRATION) return '-1'
  for (const [unit, size] of [
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`
  }
  return `${seconds}s`
}
