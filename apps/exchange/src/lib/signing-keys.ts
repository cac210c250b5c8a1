import { randomBytes } from 'node:crypto'
import { createId } from '@mqtt-oidc/core'
import type { SigningKeyRecord, Store } from '@mqtt-oidc/core'
import { createKeySet } from '@mqtt-oidc/jose'
import type { PublicJwk, SigningKey } from '@mqtt-oidc/jose'

export type { SigningKey }

/** The default algorithm of broker tokens. */
export const SIGNING_ALG = 'EdDSA'
export const ASYMMETRIC_ALGS = ['EdDSA', 'ES256', 'RS256'] as const
export type AsymmetricAlg = (typeof ASYMMETRIC_ALGS)[number]

/**
 * The exchange's keys: the JOSE core's key set (publish → sign after the
 * lead → retire → leave the JWKS once the last token it signed expired) over
 * the store's records, plus the per-broker HS256 secrets (kid
 * `hs256.<broker>.<ulid>`), which are never published.
 */
export interface SigningKeys {
  /** The key that signs `alg` tokens now; generates the first one on demand. */
  signer(alg: AsymmetricAlg): Promise<SigningKey>
  /** The broker's current HMAC key, if it has one. */
  hmac(broker: string): Promise<SigningKey | undefined>
  /** Generates a broker's HMAC secret (retiring any older one); returns the secret (base64url), shown once. */
  createHmacSecret(broker: string): Promise<string>
  /** Retires the broker's HMAC keys (the broker is gone). */
  retireHmac(broker: string): Promise<void>
  /** Publishes a new `alg` key now that starts signing after `leadSeconds`; the current one retires then. */
  rotate(alg: AsymmetricAlg, leadSeconds: number): Promise<{ kid: string; alg: string; activatesAt: number; retiring: string | undefined }>
  /** The public JWKS (recomputed when the key set changes and every minute). */
  jwks(): Promise<{ readonly keys: readonly PublicJwk[] }>
  /** The stored records (for retention decisions). */
  records(): readonly SigningKeyRecord[]
  /** The key of record `kid` (any state, retired ones included), imported once. */
  key(kid: string): SigningKey | undefined
}

/** How stale the records may be when an HS256 token is signed, seconds: a broker secret replaced at another replica is used from then on. */
export const HMAC_RELOAD_SECONDS = 5

/**
 * Loads the exchange's keys, generating an EdDSA key on first start (so a
 * restart keeps the same `kid`). `retainedUntil` says until when a retired
 * key's tokens may be valid (KeyUsage); `retainSeconds` is the bound when it
 * does not know.
 */
export async function loadSigningKeys(
  store: Store,
  options: {
    readonly now: () => number
    readonly retainSeconds: number
    readonly retainedUntil: (record: SigningKeyRecord) => Promise<number | null | undefined>
  },
): Promise<SigningKeys> {
  // Exchanges sharing the store generate keys one at a time: replicas starting together sign with one key, which every one of them publishes.
  const keysLock = <T>(fn: () => Promise<T>): Promise<T> => store.withLock('signing-keys:exchange', fn)
  const keySet = await createKeySet({
    store: store.keys,
    owner: 'exchange',
    algorithms: [SIGNING_ALG],
    retainSeconds: options.retainSeconds,
    retainedUntil: options.retainedUntil,
    now: options.now,
    exclusive: keysLock,
  })
  await keySet.ensure()
  const hmacPrefix = (broker: string): string => `hs256.${broker}.`
  let hmacCheckedAt = options.now()
  /** Retires the broker's live HMAC keys among the records as last loaded. */
  const retireLoadedHmac = async (broker: string): Promise<void> => {
    for (const r of keySet.records()) {
      if (r.alg === 'HS256' && r.kid.startsWith(hmacPrefix(broker)) && r.retiredAt === null) await store.keys.retire(r.kid, options.now())
    }
  }
  const keys: SigningKeys = {
    signer: (alg) => keySet.signer(alg),
    async hmac(broker) {
      const current = (): Promise<SigningKey | undefined> => keySet.current('HS256', hmacPrefix(broker))
      // A broker's secret made or replaced at another replica is signed with within HMAC_RELOAD_SECONDS (no lead time,
      // unlike a key rotation); a broker with none loaded was maybe created there a moment ago: both read the store.
      const t = options.now()
      if (t - hmacCheckedAt < HMAC_RELOAD_SECONDS) {
        const key = await current()
        if (key) return key
      }
      await keySet.reload()
      hmacCheckedAt = t
      return current()
    },
    async retireHmac(broker) {
      // From the store, not the last load: another replica may have made the broker's current secret.
      await keySet.reload()
      await retireLoadedHmac(broker)
      await keySet.reload()
    },
    createHmacSecret: (broker) =>
      // Under the lock, so two admins at two instances cannot leave two current secrets (the broker holding the older one).
      keysLock(async () => {
        const t = options.now()
        await keySet.reload()
        await retireLoadedHmac(broker)
        const secret = randomBytes(32).toString('base64url')
        await store.keys.add({
          kid: `${hmacPrefix(broker)}${createId()}`,
          alg: 'HS256',
          owner: 'exchange',
          privateJwk: { kty: 'oct', k: secret },
          createdAt: t,
          retiredAt: null,
        })
        await keySet.reload()
        return secret
      }),
    async rotate(alg, leadSeconds) {
      const { added, retired, activatesAt } = await keySet.rotate([alg], leadSeconds)
      return { kid: added[0]!, alg, activatesAt, retiring: retired[0] }
    },
    jwks: () => keySet.jwks(),
    records: () => keySet.records(),
    key: (kid) => keySet.key(kid),
  }
  return keys
}
