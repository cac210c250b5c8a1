import type { Store } from '@mqtt-oidc/core'
import { generateSigningKey, IDP_SIGNING_ALGS } from './lib/signing-keys.js'

/**
 * Default seconds a new IdP key is published before it signs: longer than
 * every IdP instance takes to reload its keys (KEY_RELOAD_SECONDS, 60) and
 * than a verifier waits before refetching a JWKS for an unknown kid (30 s at
 * the exchange), so whichever instance a verifier asks already lists the key
 * of any token it is shown, and the verifier asks in time.
 */
export const DEFAULT_ROTATION_LEAD_SECONDS = 300

export interface KeyRotation {
  /** kids of the new keys (one per algorithm), published now, signing from `activatesAt`. */
  readonly added: string[]
  /** kids of the keys that stop signing at `activatesAt`; they stay in the JWKS until their tokens expired. */
  readonly retired: string[]
  /** Epoch seconds when the new keys start signing. */
  readonly activatesAt: number
}

/**
 * Adds a new signing key for every algorithm, published at once and signing
 * after `leadSeconds`, when the current keys retire. Every IdP instance on
 * the store picks the change up within a minute, without a restart: the new
 * keys appear in every JWKS before any token is signed with them, and the
 * retired keys stay there (verify-only) for the longest lifetime of a token
 * they signed. A key from an earlier rotation that has not started signing
 * yet never will. `leadSeconds: 0` switches at once (a single instance, or
 * a key that must stop signing now).
 *
 * @example const { added, retired, activatesAt } = await rotateSigningKeys(store, { leadSeconds: 300 })
 */
export async function rotateSigningKeys(store: Store, options: { leadSeconds?: number; now?: number } = {}): Promise<KeyRotation> {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const lead = options.leadSeconds ?? DEFAULT_ROTATION_LEAD_SECONDS
  if (!(Number.isSafeInteger(lead) && lead >= 0)) throw new TypeError('leadSeconds: a whole number of seconds >= 0')
  const activatesAt = now + lead
  const existing = (await store.keys.list('idp')).filter((key) => key.retiredAt === null || key.retiredAt > now)
  const added: string[] = []
  // New keys first: an interruption leaves an extra key per algorithm (the newest active one signs), never none.
  for (const alg of IDP_SIGNING_ALGS) {
    const record = await generateSigningKey(alg, activatesAt)
    await store.keys.add(record)
    added.push(record.kid)
  }
  const retired: string[] = []
  for (const key of existing) {
    const pending = key.createdAt > now
    await store.keys.retire(key.kid, pending ? now : activatesAt)
    if (!pending) retired.push(key.kid)
  }
  return { added, retired, activatesAt }
}
