import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { writeSecretFileIfAbsent } from '@mqtt-oidc/core'
import { z } from 'zod'

export const COOKIE_KEYS_FILE = 'idp-cookie-keys.json'

const fileSchema = z.object({ keys: z.array(z.string().min(32)).min(1) })

/**
 * The keys that sign the IdP's cookies, generated once into
 * `<dataDir>/idp-cookie-keys.json` (mode 0600) so sessions survive restarts.
 * The first key signs; all verify (prepend a new key to rotate). Of
 * instances creating it at once, the first one's file wins and all use it.
 */
export function loadOrCreateCookieKeys(dataDir: string): string[] {
  const path = join(dataDir, COOKIE_KEYS_FILE)
  const read = (): string[] => fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).keys
  if (existsSync(path)) return read()
  const keys = [randomBytes(32).toString('base64url')]
  // IdP replicas sharing the data directory, started together: the first one's keys are everyone's
  return writeSecretFileIfAbsent(path, `${JSON.stringify({ keys }, null, 2)}\n`) ? keys : read()
}
