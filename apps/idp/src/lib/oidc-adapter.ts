import type { Store } from '@mqtt-oidc/core'
import type { Adapter, AdapterFactory } from 'oidc-provider'
import { clientFromMetadata, clientMetadata } from './client-metadata.js'

// oidc-provider passes no expiry only for models that have none (e.g.
// dynamically registered clients, unused here); such records still get one.
const DEFAULT_EXPIRES_IN = 365 * 24 * 60 * 60
// The store reads expired records as absent, but oidc-provider must still
// find an expired device code to answer `expired_token` (RFC 8628 §3.5) and
// "that code has expired" rather than "not found". It checks `exp` itself.
const KEEP_EXPIRED: Readonly<Record<string, number>> = Object.freeze({ DeviceCode: 3600 })

/**
 * oidc-provider's storage adapter backed by `store.oidc`, one record per
 * (model, id). Sessions, grants, device codes, refresh tokens and
 * interactions therefore survive a restart with the same store.
 */
export function createOidcAdapter(store: Store): AdapterFactory {
  return (model: string): Adapter =>
    model === 'Client'
      ? createClientAdapter(store)
      : {
          async upsert(id, payload, expiresIn) {
            await store.oidc.upsert(model, id, payload, (expiresIn ?? DEFAULT_EXPIRES_IN) + (KEEP_EXPIRED[model] ?? 0))
          },
          async find(id) {
            return await store.oidc.find(model, id)
          },
          async findByUserCode(userCode) {
            return await store.oidc.findByUserCode(model, userCode)
          },
          async findByUid(uid) {
            return await store.oidc.findByUid(model, uid)
          },
          async consume(id) {
            await store.oidc.consume(model, id)
          },
          async destroy(id) {
            await store.oidc.destroy(model, id)
          },
          async revokeByGrantId(grantId) {
            await store.oidc.revokeByGrantId(model, grantId)
          },
        }
}

/**
 * oidc-provider looks up every client that is not a static one (the CLI and
 * admin clients) here, on every request that names it, so a client added,
 * changed or removed through the admin API takes effect at once on every
 * instance sharing the store. It writes here only for RFC 7591 dynamic
 * registration (when enabled): the client is stored as the admin API would
 * store it, its secret hashed.
 */
function createClientAdapter(store: Store): Adapter {
  const managedElsewhere = async (): Promise<never> => {
    throw new Error('OAuth clients are changed and removed through the admin API (Store.oauthClients)')
  }
  return {
    async find(id) {
      const client = await store.oauthClients.get(id)
      return client && clientMetadata(client)
    },
    async upsert(id, payload) {
      await store.oauthClients.create(clientFromMetadata(id, payload, Math.floor(Date.now() / 1000)))
    },
    findByUserCode: async () => undefined,
    findByUid: async () => undefined,
    consume: managedElsewhere,
    destroy: managedElsewhere,
    revokeByGrantId: async () => undefined,
  }
}
