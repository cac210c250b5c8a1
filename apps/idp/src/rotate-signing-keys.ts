import type { Store } from '@mqtt-oidc/core'
import { DEFAULT_KEY_LEAD_SECONDS, rotateKeys } from '@mqtt-oidc/jose'
import type { KeyRotation } from '@mqtt-oidc/jose'
import { IDP_SIGNING_ALGS } from './lib/signing-keys.js'

/** Default seconds a new IdP key is published before it signs: the JOSE core's one lead for every key set (see DEFAULT_KEY_LEAD_SECONDS). */
export const DEFAULT_ROTATION_LEAD_SECONDS = DEFAULT_KEY_LEAD_SECONDS

export type { KeyRotation }

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
 * @example const { added, retired, activatesAt } = await rotateSigningKeys(store, { leadSeconds: 600 })
 */
export function rotateSigningKeys(store: Store, options: { leadSeconds?: number; now?: number } = {}): Promise<KeyRotation> {
  return rotateKeys(store.keys, { owner: 'idp', algorithms: IDP_SIGNING_ALGS, leadSeconds: options.leadSeconds, now: options.now })
}
