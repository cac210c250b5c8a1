import { z } from 'zod'
import { NO_EXPIRATION, parseDuration } from './parse-duration.js'
import { PORT_BASE_MAX } from './stack-ports.js'

/**
 * `, got "<value>"`, for a message about a value that cannot be a secret (a
 * number, a flag, a level): the first 40 characters, enough to spot a typo.
 */
export function gotValue(value: unknown): string {
  const text = String(value)
  return `, got ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)}`
}

/** A whole number from `min` to `max` written in decimal digits (no `1e3`, `0x10` or blanks, which coercion would take). */
const wholeNumber = (min: number, max: number) => {
  const expected = `must be a whole number from ${min} to ${max}`
  return z
    .string()
    .regex(/^\d{1,16}$/, { error: (issue) => `${expected}${gotValue(issue.input)}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: (issue) => `${expected}${gotValue(issue.input)}` })
}

/** A fixed set of words, the value shown when it is none of them. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, expected: string) =>
  z.enum(values, { error: (issue) => `${expected}${gotValue(issue.input)}` })

/**
 * Field schemas the apps' configs share (read by readEnvironment, so every
 * value arrives as a non-empty string), each with a message that says what
 * is expected (`must be ...`, which readEnvironment puts after the variable's
 * name). Numbers, flags and levels also say what they got; strings, URLs
 * above all, never do (a URL may hold a password).
 */
export const envSchemas = {
  /** A whole number from `min` to `max`. */
  wholeNumber,
  /** One of `values`; `expected` says which (`must be fail-closed or fail-open`). */
  oneOf,
  /** A TCP port, 0 to 65535 (0: any free port). */
  port: () => wholeNumber(0, 65535),
  /** MQTT_OIDC_PORT_BASE: the first of the embedded stack's ports (stack-ports.ts). */
  portBase: () => wholeNumber(1, PORT_BASE_MAX),
  /** A duration such as `30s`, `15m`, `1h`, `7d` or plain seconds; `-1` (no expiration) is refused. Output: seconds. */
  duration: () =>
    z.string().transform((value, ctx) => {
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
  flag: () => oneOf(['true', 'false', '1', '0'], 'must be true or false').transform((v) => v === 'true' || v === '1'),
  /** A pino level. */
  logLevel: () => oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'must be one of fatal, error, warn, info, debug, trace, silent'),
} as const
