import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { writeSecretFile } from '@mqtt-oidc/core'
import { z } from 'zod'
import { CONSOLE_CLIENT_ID } from './lib/constants.js'

/** The content of `<dataDir>/console-client.json` (mode 0600), read by the exchange's console. */
export interface ConsoleClientFile {
  /** The IdP's issuer URL (where people sign in to the console). */
  readonly issuer: string
  /** The exchange URL (it serves the console at /console). */
  readonly exchange: string
  readonly clientId: typeof CONSOLE_CLIENT_ID
  readonly clientSecret: string
}

export const CONSOLE_CLIENT_FILE = 'console-client.json'

const fileSchema = z.object({
  issuer: z.string(),
  exchange: z.string(),
  clientId: z.literal(CONSOLE_CLIENT_ID),
  clientSecret: z.string().min(32),
})

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
  const path = join(dataDir, CONSOLE_CLIENT_FILE)
  const stored = existsSync(path) ? fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) : undefined
  const file: ConsoleClientFile = {
    issuer: urls.issuer,
    exchange: urls.exchange,
    clientId: CONSOLE_CLIENT_ID,
    clientSecret: stored?.clientSecret ?? randomBytes(32).toString('base64url'),
  }
  if (!stored || stored.issuer !== file.issuer || stored.exchange !== file.exchange) {
    writeSecretFile(path, `${JSON.stringify(file, null, 2)}\n`)
  }
  return file
}
