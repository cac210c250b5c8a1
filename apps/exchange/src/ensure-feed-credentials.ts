import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Store } from '@mqtt-oidc/core'
import { ensureFeedCredential } from './ensure-feed-credential.js'

/**
 * ensureFeedCredential for each broker, into `<dir>/<broker id>`; logs what it did (never the secret).
 *
 * @example await ensureFeedCredentials(store, ['demo'], '.data/feed-credentials', log)
 */
export async function ensureFeedCredentials(store: Store, brokerIds: readonly string[], dir: string, log: Logger): Promise<void> {
  for (const broker of brokerIds) {
    const file = join(dir, broker)
    const outcome = await ensureFeedCredential(store, broker, file)
    if (outcome === 'issued') log.info({ broker, file }, 'feed credential issued for the broker, written to its file')
    if (outcome === 'elsewhere') {
      log.warn({ broker, file }, 'the broker has a feed credential, but not the one in this file: the exchange does not re-issue it (mqtt-oidc broker feed-credential rotates it)')
    }
  }
}
