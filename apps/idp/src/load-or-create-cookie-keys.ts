import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { writeSecretFile } from '@mqtt-oidc/core'
import { z } from 'zod'

export const COOKIE_KEYS_FILE = 'idp-cookie-keys.json'

const fileSchema = z.object({ keys: z.array(z.string().min(32)).min(1) })

/**
 * The keys that sign the IdP's cookies, generated once into
 * `<dataDir>/idp-cookie-keys.json` (mode 0600) so sessions survive restarts.
 * The first key signs; all verify (prepend a new key to rotate).
 */
export function loadOrCreateCookieKeys(dataDir: string): string[] {
  const path = join(dataDir, COOKIE_KEYS_FILE)
  if (existsSync(path)) return fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).keys
  const keys = [randomBytes(32).toString('base64url')]
  writeSecretFile(path, `${JSON.stringify({ keys }, null, 2)}\n`)
  return keys
}
