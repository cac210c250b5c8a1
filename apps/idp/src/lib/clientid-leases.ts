import type { Account, Store } from '@mqtt-oidc/core'
import { randomBase32 } from './random-base32.js'

/** oidc_records model of the per-account lease table; one record per account id. */
export const CLIENTID_LEASE_MODEL = 'ClientIdLease'

// MQTT client ids are at most 128 characters here (create-account.ts).
const MAX_CLIENT_ID = 128
// 50 random bits: a derived id never lands on another account's configured id by chance.
const DERIVED_SUFFIX_LENGTH = 10

/** Which client id a grant holds, and the configured id it belongs to (itself, or the base of a derived id). */
interface Lease { readonly clientId: string; readonly base: string }
type Leases = Record<string, Lease>

/**
 * Per-login client ids. Each grant (one device's sign-in; refreshes keep the
 * grant) leases one MQTT client id, recorded per account in the store's
 * `ClientIdLease` record as `grantId → {clientId, base}`:
 *
 * 1. A grant that already holds a lease keeps it (a refreshed ID token carries
 *    the same `clientid` as the first one).
 * 2. Otherwise it takes the first of the account's configured client ids that
 *    no other live grant holds (a grant is live while its `Grant` record is).
 * 3. When every configured id is held, it gets a derived id
 *    `<first configured id>-<10 random base32 chars>`.
 *
 * A lease whose base was since removed from the account yields `undefined`
 * (no `clientid` claim, so the exchange refuses): never another device's id.
 * Concurrent sign-ins of one account run one at a time under the store's
 * lock, also across IdP instances sharing a PostgreSQL store, so no id is
 * handed out twice.
 */
export function createClientIdLeases(store: Store): ClientIdLeases {
  // One read-modify-write of an account's leases at a time, in every instance.
  const serialised = <T>(accountId: string, task: () => Promise<T>): Promise<T> => store.withLock(`clientid-leases:${accountId}`, task)

  const grantExpiry = async (grantId: string, now: number): Promise<number | undefined | null> => {
    const grant = await store.oidc.find('Grant', grantId)
    if (!grant) return null
    const exp = typeof grant.exp === 'number' ? grant.exp : undefined
    return exp !== undefined && exp <= now ? null : exp
  }

  const liveLeases = async (accountId: string, now: number): Promise<{ leases: Leases; until: number | undefined }> => {
    const stored = ((await store.oidc.find(CLIENTID_LEASE_MODEL, accountId))?.grants ?? {}) as Leases
    const leases: Leases = {}
    let until: number | undefined = now
    for (const [grantId, lease] of Object.entries(stored)) {
      const exp = await grantExpiry(grantId, now)
      if (exp === null) continue
      leases[grantId] = lease
      until = until === undefined || exp === undefined ? undefined : Math.max(until, exp)
    }
    return { leases, until }
  }

  const save = async (accountId: string, leases: Leases, until: number | undefined, now: number): Promise<void> => {
    // The record outlives none of its grants; no expiry when a grant has none.
    await store.oidc.upsert(CLIENTID_LEASE_MODEL, accountId, { grants: leases }, until === undefined ? 0 : Math.max(until - now, 1))
  }

  return {
    clientIdFor: (account, grantId) => serialised(account.id, async () => {
      const now = Math.floor(Date.now() / 1000)
      const { leases, until } = await liveLeases(account.id, now)
      const held = leases[grantId]
      if (held) return account.clientIds.includes(held.base) ? held.clientId : undefined
      const taken = new Set(Object.values(leases).map((lease) => lease.clientId))
      const base = account.clientIds[0]
      if (base === undefined) return undefined
      const free = account.clientIds.find((id) => !taken.has(id))
      const lease: Lease = free !== undefined ? { clientId: free, base: free } : { clientId: deriveClientId(base, taken), base }
      await save(account.id, { ...leases, [grantId]: lease }, await extend(until, grantId, now), now)
      return lease.clientId
    }),
    record: (account, grantId, clientId) => serialised(account.id, async () => {
      const now = Math.floor(Date.now() / 1000)
      const { leases, until } = await liveLeases(account.id, now)
      if (leases[grantId]?.clientId === clientId) return
      await save(account.id, { ...leases, [grantId]: { clientId, base: clientId } }, await extend(until, grantId, now), now)
    }),
  }

  async function extend(until: number | undefined, grantId: string, now: number): Promise<number | undefined> {
    const exp = await grantExpiry(grantId, now)
    if (until === undefined || exp === undefined) return undefined
    return Math.max(until, exp ?? now)
  }
}

export interface ClientIdLeases {
  /** The per-login client id of `grantId` (leased on first use), or undefined when its base left the account. */
  clientIdFor(account: Account, grantId: string): Promise<string | undefined>
  /** Records an explicitly requested client id as held by `grantId`, so automatic picks avoid it. */
  record(account: Account, grantId: string, clientId: string): Promise<void>
}

function deriveClientId(base: string, taken: ReadonlySet<string>): string {
  for (;;) {
    const suffix = `-${randomBase32(DERIVED_SUFFIX_LENGTH)}`
    const id = `${base.slice(0, MAX_CLIENT_ID - suffix.length)}${suffix}`
    if (!taken.has(id)) return id
  }
}
