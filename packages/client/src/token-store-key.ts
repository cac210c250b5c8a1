import type { Configuration } from 'openid-client'
import type { TokenStoreKey } from './create-token-store.js'

/** The token store key of a Configuration: its issuer and client id. */
export function tokenStoreKey(config: Configuration): TokenStoreKey {
  return { issuer: config.serverMetadata().issuer, clientId: config.clientMetadata().client_id }
}
