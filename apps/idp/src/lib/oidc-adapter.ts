import type { Store } from '@mqtt-oidc/core'
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider'

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
  return (model: string): Adapter => ({
    async upsert(id, payload, expiresIn) {
      await store.oidc.upsert(model, id, payload as Record<string, unknown>, (expiresIn ?? DEFAULT_EXPIRES_IN) + (KEEP_EXPIRED[model] ?? 0))
    },
    async find(id) {
      return (await store.oidc.find(model, id)) as AdapterPayload | undefined
    },
    async findByUserCode(userCode) {
      return (await store.oidc.findByUserCode(model, userCode)) as AdapterPayload | undefined
    },
    async findByUid(uid) {
      return (await store.oidc.findByUid(model, uid)) as AdapterPayload | undefined
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
  })
}
