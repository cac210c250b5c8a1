import { existsSync, readFileSync } from 'node:fs'
import { writeSecretFile } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'
import { checkFeedCredential, hasFeedCredential, issueFeedCredential } from './lib/feed-credentials.js'

/** What ensureFeedCredential did. */
export type FeedCredentialOutcome = 'issued' | 'kept' | 'elsewhere'

/**
 * For a broker the exchange bootstraps (the embedded stack, docker-compose):
 * issues its revocation-feed credential on first start and writes it to
 * `file` (mode 0600), where a broker sharing the data directory reads it.
 * Later starts keep it. When the store already holds a credential that is
 * not the one in `file` (issued by another instance, or rotated by an
 * admin), nothing is issued: re-issuing on every start would cut off the
 * brokers that hold the current one. Call it under the startup lock.
 *
 * @example await ensureFeedCredential(store, 'demo', '.data/feed-credentials/demo')
 */
export async function ensureFeedCredential(store: Store, brokerId: string, file: string, now = Math.floor(Date.now() / 1000)): Promise<FeedCredentialOutcome> {
  const broker = await store.brokers.get(brokerId)
  if (!broker) throw new Error(`ensureFeedCredential: no broker "${brokerId}"`)
  const written = existsSync(file) ? readFileSync(file, 'utf8').trim() : ''
  if (written !== '' && (await checkFeedCredential(store, brokerId, written)) !== undefined) return 'kept'
  if (await hasFeedCredential(store, broker)) return 'elsewhere'
  const { secret } = await issueFeedCredential(store, broker, now)
  writeSecretFile(file, `${secret}\n`)
  return 'issued'
}
