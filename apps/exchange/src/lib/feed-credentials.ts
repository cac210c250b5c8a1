import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Store } from '@mqtt-oidc/core'

/**
 * Per-broker credentials for the revocation feed. The secret is shown once
 * (or written to a file of mode 0600); the store keeps only its SHA-256 (a
 * 256-bit random secret needs no slow hash) in the broker's record, so it
 * goes with the broker (one created again under the same id has none) and
 * every exchange instance sharing the store accepts it.
 */

/** Recognisable by secret scanners; 32 random bytes after it. */
const PREFIX = 'mqof_'

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest()

/** Issues a new feed credential for the broker (the previous one stops working); returns the secret and its digest. */
export async function issueFeedCredential(store: Store, broker: { readonly id: string }, now: number): Promise<{ secret: string; digest: string }> {
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`
  const sha256 = digest(secret).toString('hex')
  await store.brokers.setFeedCredential(broker.id, { sha256, issuedAt: now })
  return { secret, digest: sha256 }
}

/** Whether a feed credential was issued for this broker. */
export async function hasFeedCredential(store: Store, broker: { readonly id: string }): Promise<boolean> {
  return (await store.brokers.feedCredential(broker.id)) !== undefined
}

/**
 * The stored credential's digest when `secret` is the current feed
 * credential of `brokerId`; else undefined. Takes the same steps for an
 * unknown broker as for a known one.
 */
export async function checkFeedCredential(store: Store, brokerId: string, secret: string): Promise<string | undefined> {
  const stored = await store.brokers.feedCredential(brokerId)
  const expected = Buffer.from(stored?.sha256 ?? '00'.repeat(32), 'hex')
  const presented = digest(secret)
  const equal = expected.length === presented.length && timingSafeEqual(expected, presented)
  return equal && stored !== undefined ? stored.sha256 : undefined
}
