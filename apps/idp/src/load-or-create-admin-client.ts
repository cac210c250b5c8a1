import { ADMIN_CLIENT_ID } from './lib/constants.js'
import { loadOrCreateClientFile, type ClientCredentialsFile } from './lib/client-credentials-file.js'

/** The content of `<dataDir>/admin-client.json` (mode 0600): `issuer` (where to get a token), `exchange` (the token's audience / resource indicator), the client id and secret. */
export type AdminClientFile = ClientCredentialsFile<typeof ADMIN_CLIENT_ID>

export const ADMIN_CLIENT_FILE = 'admin-client.json'

/**
 * Reads `<dataDir>/admin-client.json`, creating it with a new random secret
 * on first use. The secret survives restarts; `issuer` and `exchange` are
 * rewritten when the configuration changed, so the CLI always finds the
 * current URLs next to the secret.
 *
 * @example const admin = loadOrCreateAdminClient('.data', { issuer: 'http://localhost:4000', exchange: 'http://localhost:4001' })
 */
export function loadOrCreateAdminClient(dataDir: string, urls: { issuer: string; exchange: string }): AdminClientFile {
  return loadOrCreateClientFile(dataDir, ADMIN_CLIENT_FILE, ADMIN_CLIENT_ID, urls)
}
