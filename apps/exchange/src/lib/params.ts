import type { z } from 'zod'
import { InvalidRequest } from '@mqtt-oidc/core'

/**
 * One form or query parameter: undefined when absent; a repeated parameter
 * is refused (RFC 6749 §3.1: parameters must not be included more than once).
 */
export function singleParam(source: unknown, name: string): string | undefined {
  const value = (source as Record<string, unknown> | undefined)?.[name]
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') throw new InvalidRequest(`parameter ${name} must be given once`)
  return value
}

/** A `true`/`false` parameter: false when absent. */
export function booleanParam(value: string | undefined, name: string): boolean {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  throw new InvalidRequest(`${name} must be true or false`)
}

/** A repeatable query parameter as a list (`?jti=a&jti=b`). */
export function listParam(source: unknown, name: string): string[] {
  const value = (source as Record<string, unknown> | undefined)?.[name]
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  if (!list.every((v): v is string => typeof v === 'string')) throw new InvalidRequest(`parameter ${name} must be a string`)
  return list
}

/** Parses a JSON body with a zod schema; every problem is listed in one InvalidRequest. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body ?? {})
  if (parsed.success) return parsed.data
  // A message that already names its field ("number must be ...") is used as is.
  const problems = parsed.error.issues.map((i) =>
    i.path.length && !i.message.startsWith(String(i.path[0])) ? `${i.path.join('.')}: ${i.message}` : i.message)
  throw new InvalidRequest(problems.join('; '))
}

/** A point in time: epoch seconds (digits) or an ISO 8601 time; undefined when absent. */
export function timeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (/^\d{1,12}$/.test(value)) return Number(value)
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(ms)) throw new InvalidRequest(`${name} must be epoch seconds or an ISO 8601 time such as 2030-01-31T12:00:00Z`)
  return Math.floor(ms / 1000)
}

/** A whole number from `min` to `max`; `fallback` when absent. */
export function countParam(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN
  if (n >= min && n <= max) return n
  throw new InvalidRequest(`${name} must be a whole number from ${min} to ${max}`)
}

/** A `true`/`false` parameter: undefined when absent. */
export function booleanOrAbsent(value: string | undefined, name: string): boolean | undefined {
  return value === undefined ? undefined : booleanParam(value, name)
}
