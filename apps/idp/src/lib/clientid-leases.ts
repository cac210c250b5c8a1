import { MAX_MQTT_IDENTIFIER_BYTES, type Account, type ClientIdLease, type ClientIdOwner, type Store } from '@mqtt-oidc/core'
import { randomBase32 } from './random-base32.js'

// 50 random bits: a derived id rarely lands on a held id, and when it does the next draw is taken.
const DERIVED_SUFFIX_LENGTH = 10

/**
 * Per-login client ids. Each grant (one device's sign-in; refreshes keep the
 * grant) leases one MQTT client id, recorded in the store's client id
 * registry as the grant's lease (`clientIds.recordLease`):
 *
 * 1. A grant that already holds a lease keeps it (a refreshed ID token carries
 *    the same `clientid` as the first one).
 * 2. Otherwise it takes the first of the account's configured client ids that
 *    the account owns (the registry's holdings) and no other live grant
 *    holds (a grant is live while its `Grant` record is).
 * 3. When every configured id is held, it gets a derived id
 *    `<first configured id>-<10 random base32 chars>`, claimed in the
 *    registry as the account's lease until the grant expires, so no other
 *    account or subject can hold it, and none it holds is ever derived.
 *
 * A lease whose base was since removed from the account yields `undefined`
 * (no `clientid` claim, so the exchange refuses): never another device's id.
 * A lease whose grant is gone ends, freeing its derived id. Concurrent
 * sign-ins of one account run one at a time under the store's lock, also
 * across IdP instances sharing a PostgreSQL store, so no id is handed out twice.
 */
export function createClientIdLeases(store: Store, randomSuffix: () => string = () => randomBase32(DERIVED_SUFFIX_LENGTH)): ClientIdLeases {
  // One read-modify-write of an account's leases at a time, in every instance.
  const serialised = <T>(accountId: string, task: () => Promise<T>): Promise<T> => store.withLock(`clientid-leases:${accountId}`, task)
  const ownerOf = (account: Account): ClientIdOwner => ({ kind: 'account', accountId: account.id })

  /** The grant's expiry: epoch seconds, undefined when it has none, null when it is gone. */
  const grantExpiry = async (grantId: string, now: number): Promise<number | undefined | null> => {
    const grant = await store.oidc.find('Grant', grantId)
    if (!grant) return null
    const exp = typeof grant.exp === 'number' ? grant.exp : undefined
    return exp !== undefined && exp <= now ? null : exp
  }

  const liveLeases = async (account: Account, now: number): Promise<ClientIdLease[]> => {
    const live: ClientIdLease[] = []
    for (const lease of await store.clientIds.leasesOf(account.id, now)) {
      // A grant revoked before its expiry (a logout, a disable): its derived id is free again.
      if (await grantExpiry(lease.grantId, now) === null) await store.clientIds.endLease(lease.grantId)
      else live.push(lease)
    }
    return live
  }

  const lease = async (account: Account, grantId: string, clientId: string, base: string, now: number): Promise<void> => {
    const exp = await grantExpiry(grantId, now)
    await store.clientIds.recordLease({ grantId, accountId: account.id, clientId, base, expiresAt: exp ?? null })
  }

  const owned = async (account: Account, now: number): Promise<string[]> => {
    const held = new Set((await store.clientIds.heldBy(ownerOf(account), now)).filter((h) => h.source === 'configured').map((h) => h.clientId))
    return account.clientIds.filter((id) => held.has(id))
  }

  const derive = async (account: Account, base: string, taken: ReadonlySet<string>, expiresAt: number | undefined, now: number): Promise<string> => {
    for (;;) {
      const id = `${truncateBytes(base, MAX_MQTT_IDENTIFIER_BYTES - DERIVED_SUFFIX_LENGTH - 1)}-${randomSuffix()}`
      if (taken.has(id)) continue
      const holding = await store.clientIds.claim(id, ownerOf(account), { source: 'lease', expiresAt: expiresAt ?? null, now })
      if (holding.owner?.kind === 'account' && holding.owner.accountId === account.id) return id
    }
  }

  return {
    owned: (account) => owned(account, Math.floor(Date.now() / 1000)),
    clientIdFor: (account, grantId) => serialised(account.id, async () => {
      const now = Math.floor(Date.now() / 1000)
      const leases = await liveLeases(account, now)
      const held = leases.find((l) => l.grantId === grantId)
      if (held) return account.clientIds.includes(held.base) ? held.clientId : undefined
      const taken = new Set(leases.map((l) => l.clientId))
      const configured = await owned(account, now)
      const base = configured[0]
      if (base === undefined) return undefined
      const free = configured.find((id) => !taken.has(id))
      const clientId = free ?? await derive(account, base, taken, (await grantExpiry(grantId, now)) ?? undefined, now)
      await lease(account, grantId, clientId, free ?? base, now)
      return clientId
    }),
    record: (account, grantId, clientId) => serialised(account.id, async () => {
      const now = Math.floor(Date.now() / 1000)
      const leases = await liveLeases(account, now)
      if (leases.some((l) => l.grantId === grantId && l.clientId === clientId)) return
      await lease(account, grantId, clientId, clientId, now)
    }),
  }
}

export interface ClientIdLeases {
  /** The account's configured client ids that it owns (an id in conflict is nobody's), in its order. */
  owned(account: Account): Promise<string[]>
  /** The per-login client id of `grantId` (leased on first use), or undefined when its base left the account. */
  clientIdFor(account: Account, grantId: string): Promise<string | undefined>
  /** Records an explicitly requested client id as held by `grantId`, so automatic picks avoid it. */
  record(account: Account, grantId: string, clientId: string): Promise<void>
}

/** The longest prefix of `value` (whole code points) of at most `bytes` bytes of UTF-8. */
function truncateBytes(value: string, bytes: number): string {
  let out = ''
  for (const char of value) {
    if (Buffer.byteLength(out + char) > bytes) break
    out += char
  }
  return out
}
