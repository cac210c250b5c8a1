import { z } from 'zod'
import { NO_EXPIRATION, parseDuration } from './parse-duration.js'

/** A whole number from `min` to `max` written in decimal digits (no `1e3`, `0x10` or blanks, which coercion would take). */
const wholeNumber = (min: number, max: number) => z.string()
  .regex(/^\d{1,16}$/, `must be a whole number from ${min} to ${max}`)
  .transform(Number)
  .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`)

/**
 * Field schemas the apps' configs share (read by readEnvironment, so every
 * value arrives as a non-empty string), each with a message that says what
 * is expected; values never appear in a message (a variable may hold a secret).
 */
export const envSchemas = {
  /** A whole number from `min` to `max`. */
  wholeNumber,
  /** A TCP port, 0 to 65535 (0: any free port). */
  port: () => wholeNumber(0, 65535),
  /** A duration such as `30s`, `15m`, `1h`, `7d` or plain seconds; `-1` (no expiration) is refused. Output: seconds. */
  duration: () => z.string().transform((value, ctx) => {
    try {
      const seconds = parseDuration(value)
      if (seconds !== NO_EXPIRATION) return seconds
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 1h (-1 is not allowed here)' })
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message })
    }
    return z.NEVER
  }),
  /** An absolute http: or https: URL. */
  httpUrl: () => z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL'),
  /** The shared store: a postgres:// URL (unset: the embedded SQLite store). */
  storeUrl: () => z.string().refine((v) => /^postgres(ql)?:\/\/./.test(v) && URL.canParse(v), 'must be a postgres:// URL (unset: the embedded SQLite store)'),
  /** `true`/`false` (or `1`/`0`). */
  flag: () => z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1'),
  /** A pino level. */
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be one of fatal, error, warn, info, debug, trace, silent' }),
} as const
