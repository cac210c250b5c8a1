import type { Broker, BrokerPolicy, Store } from '@mqtt-oidc/core'

export interface CachedBroker {
  readonly broker: Broker
  readonly policy: BrokerPolicy
}

/** Brokers and their policies as /token reads them: a store read saved per exchange. */
export interface BrokerCache {
  /** The broker and its policy, or undefined when there is no such broker (misses are not cached). */
  get(id: string): Promise<CachedBroker | undefined>
  /** Drops a broker after an admin change here, so this instance sees it at once. */
  invalidate(id: string): void
}

/**
 * A short-lived read cache. Changes made through this instance's admin API
 * apply at once (invalidate); changes by another instance sharing the store
 * apply within `ttlSeconds`.
 */
export function createBrokerCache(store: Store, now: () => number, ttlSeconds = 5): BrokerCache {
  const entries = new Map<string, { value: CachedBroker; until: number }>()
  return {
    async get(id) {
      const hit = entries.get(id)
      if (hit && hit.until > now()) return hit.value
      const broker = await store.brokers.get(id)
      if (!broker) {
        entries.delete(id)
        return undefined
      }
      const value = { broker, policy: broker.policy }
      entries.set(id, { value, until: now() + ttlSeconds })
      return value
    },
    invalidate(id) { entries.delete(id) },
  }
}
