import { DEFAULT_BROKER_POLICY, isMqttOidcError } from '@mqtt-oidc/core'
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
 * as it is (an admin may have changed it). Returns the stored broker. Safe
 * for instances starting together on one store: the one whose create loses
 * the race takes the broker the other made.
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
  try {
    await store.brokers.create(broker)
    return broker
  } catch (err) {
    const made = isMqttOidcError(err) && err.code === 'ERR_CONFLICT' ? await store.brokers.get(options.id) : undefined
    if (made) return made
    throw err
  }
}
