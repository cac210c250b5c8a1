import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { writeSecretFile } from '@mqtt-oidc/core'
import { z } from 'zod'
import { ADMIN_CLIENT_ID } from './lib/constants.js'

/** The content of `<dataDir>/admin-client.json` (mode 0600). */
export interface AdminClientFile {
  /** The IdP's issuer URL (where to get a token). */
  readonly issuer: string
  /** The exchange URL (the token's audience / resource indicator). */
  readonly exchange: string
  readonly clientId: typeof ADMIN_CLIENT_ID
  readonly clientSecret: string
}

export const ADMIN_CLIENT_FILE = 'admin-client.json'

const fileSchema = z.object({
  issuer: z.string(),
  exchange: z.string(),
  clientId: z.literal(ADMIN_CLIENT_ID),
  clientSecret: z.string().min(32),
})

/**
 * Reads `<dataDir>/admin-client.json`, creating it with a new random secret
 * on first use. The secret survives restarts; `issuer` and `exchange` are
 * rewritten when the configuration changed, so the CLI always finds the
 * current URLs next to the secret.
 *
 * @example const admin = loadOrCreateAdminClient('.data', { issuer: 'http://localhost:4000', exchange: 'http://localhost:4001' })
 */
export function loadOrCreateAdminClient(dataDir: string, urls: { issuer: string; exchange: string }): AdminClientFile {
  const path = join(dataDir, ADMIN_CLIENT_FILE)
  const stored = existsSync(path) ? fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) : undefined
  const file: AdminClientFile = {
    issuer: urls.issuer,
    exchange: urls.exchange,
    clientId: ADMIN_CLIENT_ID,
    clientSecret: stored?.clientSecret ?? randomBytes(32).toString('base64url'),
  }
  if (!stored || stored.issuer !== file.issuer || stored.exchange !== file.exchange) {
    writeSecretFile(path, `${JSON.stringify(file, null, 2)}\n`)
  }
  return file
}
