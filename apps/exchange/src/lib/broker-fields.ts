import { z } from 'zod'
import { InvalidRequest, NO_EXPIRATION, NotFound, aclSchema, parseDuration } from '@mqtt-oidc/core'
import type { Broker, Store } from '@mqtt-oidc/core'

/**
 * An expiration field: "48h" | 3600 | "-1" | -1 | null. Parsed to seconds;
 * -1 is kept as NO_EXPIRATION so callers decide what "none" means.
 */
export const expirationSchema = z.union([z.string(), z.number(), z.null()]).transform((value, zctx) => {
  if (value === null) return NO_EXPIRATION
  try {
    return parseDuration(value)
  } catch (err) {
    zctx.addIssue({ code: 'custom', message: err instanceof InvalidRequest ? err.message : 'invalid duration' })
    return z.NEVER
  }
})

export const brokerUrlSchema = z.string().max(2048).refine((v) => URL.canParse(v), { message: 'not an absolute URL' }).nullable()

export { aclSchema }

/** The broker or NotFound. */
export async function getBroker(store: Store, id: string): Promise<Broker> {
  const broker = await store.brokers.get(id)
  if (!broker) throw new NotFound(`unknown broker "${id.slice(0, 64)}"`)
  return broker
}
