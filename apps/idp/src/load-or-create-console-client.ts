import { CONSOLE_CLIENT_ID } from './lib/constants.js'
import { loadOrCreateClientFile, type ClientCredentialsFile } from './lib/client-credentials-file.js'

/** The content of `<dataDir>/console-client.json` (mode 0600), read by the exchange's console. */
export type ConsoleClientFile = ClientCredentialsFile<typeof CONSOLE_CLIENT_ID>

export const CONSOLE_CLIENT_FILE = 'console-client.json'

/**
 * Reads `<dataDir>/console-client.json`, creating it with a new random
 * secret on first use, as loadOrCreateAdminClient does for the admin client:
 * the IdP knows the console as a built-in confidential client, and the
 * exchange (sharing the data directory, or given a copy of the file) signs
 * people in to its console with it.
 *
 * @example const console = loadOrCreateConsoleClient('.data', { issuer: 'http://localhost:4000', exchange: 'http://localhost:4001' })
 */
export function loadOrCreateConsoleClient(dataDir: string, urls: { issuer: string; exchange: string }): ConsoleClientFile {
  return loadOrCreateClientFile(dataDir, CONSOLE_CLIENT_FILE, CONSOLE_CLIENT_ID, urls)
}
