import { DEFAULT_BROKER_POLICY } from '@mqtt-oidc/core'
import type { Acl, Broker, Store } from '@mqtt-oidc/core'
import { DEFAULT_EXCHANGE_ACL } from './create-exchange.js'

export interface EnsureBrokerOptions {
  readonly id: string
  readonly url?: string | null | undefined
  /** Default token lifetime, seconds; null/undefined = none. */
  readonly expiration?: number | null | undefined
  readonly acl?: Acl | undefined
}

/**
 * Creates the broker when it does not exist yet; an existing broker is left
 * as it is (an admin may have changed it). Returns the stored broker.
 *
 * @example await ensureBroker(store, { id: 'demo', url: 'mqtt://localhost:1883' })
 */
export async function ensureBroker(store: Store, options: EnsureBrokerOptions, now = Math.floor(Date.now() / 1000)): Promise<Broker> {
  const existing = await store.brokers.get(options.id)
  if (existing) return existing
  const broker: Broker = {
    id: options.id,
    expiration: options.expiration ?? null,
    acl: options.acl ?? DEFAULT_EXCHANGE_ACL,
    url: options.url ?? null,
    policy: DEFAULT_BROKER_POLICY,
    createdAt: now,
    updatedAt: now,
  }
  await store.brokers.create(broker)
  return broker
}
