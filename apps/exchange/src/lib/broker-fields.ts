import { z } from 'zod'
import { InvalidRequest, NO_EXPIRATION, NotFound, aclSchema, parseDuration } from '@mqtt-oidc/core'
import type { Broker, Store } from '@mqtt-oidc/core'

/**
 * Longest expiration the admin API takes: 10 years, in seconds. Anything
 * longer is a typo (milliseconds, a wrong unit) far more often than a wish;
 * -1 says "no expiry" explicitly.
 */
export const MAX_EXPIRATION = 3650 * 86400

const EXPIRATION_RANGE = `expiration must be -1 (none) or from 1 s to 3650d (${MAX_EXPIRATION} s, 10 years)`

/**
 * An expiration field: "48h" | 3600 | "-1" | -1 | null. Parsed to seconds;
 * -1 is kept as NO_EXPIRATION so callers decide what "none" means. Outside
 * 1 s..10 years the error says the bounds.
 */
export const expirationSchema = z.union([z.string(), z.number(), z.null()]).transform((value, zctx) => {
  if (value === null) return NO_EXPIRATION
  const fail = (message: string): never => {
    zctx.addIssue({ code: 'custom', message })
    return z.NEVER
  }
  if (typeof value === 'number' && !Number.isInteger(value)) return fail(`expiration must be a whole number of seconds; got ${value}`)
  if (typeof value === 'number' && value !== NO_EXPIRATION && (value < 1 || value > MAX_EXPIRATION)) return fail(`${EXPIRATION_RANGE}; got ${value}`)
  // A huge "999999999999w" is out of range, not malformed: say the bounds.
  const tooLong = typeof value === 'string' && (tooLongDuration(value) ?? false)
  let seconds = 0
  try {
    if (!tooLong) seconds = parseDuration(value)
  } catch (err) {
    return fail(err instanceof InvalidRequest ? err.message : 'invalid duration')
  }
  return tooLong || seconds > MAX_EXPIRATION ? fail(`${EXPIRATION_RANGE}; got ${JSON.stringify(value)}`) : seconds
})

const UNIT_SECONDS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/** Whether a well-formed duration string is longer than MAX_EXPIRATION (undefined: not one). */
function tooLongDuration(text: string): boolean | undefined {
  const m = /^\s*(\d+)([smhdw]?)\s*$/i.exec(text)
  return m ? Number(m[1]) * (UNIT_SECONDS[m[2]!.toLowerCase()] ?? 1) > MAX_EXPIRATION : undefined
}

export const brokerUrlSchema = z
  .string()
  .max(2048)
  .refine((v) => URL.canParse(v), { message: 'not an absolute URL' })
  .nullable()

export { aclSchema }

/** The broker or NotFound. */
export async function getBroker(store: Store, id: string): Promise<Broker> {
  const broker = await store.brokers.get(id)
  if (!broker) throw new NotFound(`unknown broker "${id.slice(0, 64)}"`)
  return broker
}
