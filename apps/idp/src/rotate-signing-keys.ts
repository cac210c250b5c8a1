import type { Store } from '@mqtt-oidc/core'
import { generateSigningKey, IDP_SIGNING_ALGS } from './lib/signing-keys.js'

export interface KeyRotation {
  /** kids of the new current keys (one per algorithm). */
  readonly added: string[]
  /** kids of the keys that stopped signing; they stay in the JWKS until their tokens expired. */
  readonly retired: string[]
}

/**
 * Adds a new signing key for every algorithm and retires the current ones.
 * The IdP signs with the new keys from its next start; retired keys stay in
 * its JWKS (verify-only) for the longest lifetime of a token they signed, so
 * every token already issued keeps verifying until it expires.
 *
 * @example const { added, retired } = await rotateSigningKeys(store)
 */
export async function rotateSigningKeys(store: Store, now = Math.floor(Date.now() / 1000)): Promise<KeyRotation> {
  const current = (await store.keys.list('idp')).filter((key) => key.retiredAt === null)
  const added: string[] = []
  // New keys first: an interruption leaves two current keys per algorithm
  // (the newest signs), never none.
  for (const alg of IDP_SIGNING_ALGS) {
    const record = await generateSigningKey(alg)
    await store.keys.add(record)
    added.push(record.kid)
  }
  for (const key of current) await store.keys.retire(key.kid, now)
  return { added, retired: current.map((key) => key.kid) }
}
