import type { Logger } from 'pino'
import type { Store } from '@mqtt-oidc/core'
import { ensureFeedCredential } from './ensure-feed-credential.js'

/**
 * ensureFeedCredential for each broker, into its file; logs what it did (never the secret).
 *
 * @example await ensureFeedCredentials(store, [{ broker: 'demo', file: '.data/feed-credentials/demo' }], log)
 */
export async function ensureFeedCredentials(store: Store, files: ReadonlyArray<{ readonly broker: string; readonly file: string }>, log: Logger): Promise<void> {
  for (const { broker, file } of files) {
    const outcome = await ensureFeedCredential(store, broker, file)
    if (outcome === 'issued') log.info({ broker, file }, 'feed credential issued for the broker, written to its file')
    if (outcome === 'elsewhere') {
      log.warn({ broker, file }, 'the broker has a feed credential, but not the one in this file: the exchange does not re-issue it (mqtt-oidc broker feed-credential rotates it)')
    }
  }
}
