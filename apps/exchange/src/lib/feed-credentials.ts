import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Store } from '@mqtt-oidc/core'

/**
 * Per-broker credentials for the revocation feed. The secret is shown once
 * (or written to a file of mode 0600); the store keeps only its SHA-256 (a
 * 256-bit random secret needs no slow hash), with the `createdAt` of the
 * broker it was issued for, so a broker deleted and created again under the
 * same id does not inherit its predecessor's credential. Kept in the
 * store's generic record table, next to the broker policy, so every
 * exchange instance sharing the store accepts it.
 */
export const FEED_CREDENTIAL_MODEL = 'MqttOidcFeedCredential'

/** Recognisable by secret scanners; 32 random bytes after it. */
const PREFIX = 'mqof_'

interface StoredCredential {
  readonly sha256: string
  readonly brokerCreatedAt: number
  readonly issuedAt: number
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest()

/** Issues a new feed credential for the broker (the previous one stops working); returns the secret and its digest. */
export async function issueFeedCredential(
  store: Store, broker: { readonly id: string; readonly createdAt: number }, now: number,
): Promise<{ secret: string; digest: string }> {
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`
  const record: StoredCredential = { sha256: digest(secret).toString('hex'), brokerCreatedAt: broker.createdAt, issuedAt: now }
  await store.oidc.upsert(FEED_CREDENTIAL_MODEL, broker.id, { ...record }, 0)
  return { secret, digest: record.sha256 }
}

/** Whether a feed credential was issued for this broker (not for a deleted one of the same id). */
export async function hasFeedCredential(store: Store, broker: { readonly id: string; readonly createdAt: number }): Promise<boolean> {
  const record = await store.oidc.find(FEED_CREDENTIAL_MODEL, broker.id) as Partial<StoredCredential> | undefined
  return record?.brokerCreatedAt === broker.createdAt
}

/**
 * The stored credential's digest when `secret` is the current feed credential of `brokerId`
 * (and that broker still exists as it was when it was issued); else undefined. Takes the same
 * steps for an unknown broker as for a known one.
 */
export async function checkFeedCredential(store: Store, brokerId: string, secret: string): Promise<string | undefined> {
  const [stored, broker] = await Promise.all([store.oidc.find(FEED_CREDENTIAL_MODEL, brokerId), store.brokers.get(brokerId)])
  const record = stored as Partial<StoredCredential> | undefined
  const expected = Buffer.from(typeof record?.sha256 === 'string' ? record.sha256 : '00'.repeat(32), 'hex')
  const presented = digest(secret)
  const equal = expected.length === presented.length && timingSafeEqual(expected, presented)
  return equal && broker !== undefined && broker.createdAt === record?.brokerCreatedAt ? record.sha256 : undefined
}
