import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AdminCredentials } from './create-admin-client.js'
import { AdminCredentialsMissing } from './errors.js'
import { isRecord } from '@mqtt-oidc/core'

/** Reads `<dataDir>/admin-client.json` (written by the embedded stack on first start). */
export function readAdminCredentials(dataDir: string): AdminCredentials {
  const path = join(dataDir, 'admin-client.json')
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'unreadable'
    throw new AdminCredentialsMissing(`admin credentials ${path} ${why}: start the stack (pnpm start) or pass --data-dir`, { cause: err })
  }
  const fields = ['issuer', 'exchange', 'clientId', 'clientSecret'] as const
  if (!isRecord(json) || !fields.every((f) => typeof json[f] === 'string' && json[f] !== '')) {
    throw new AdminCredentialsMissing(`admin credentials ${path} must hold {"issuer","exchange","clientId","clientSecret"}`)
  }
  return { issuer: json.issuer as string, exchange: json.exchange as string, clientId: json.clientId as string, clientSecret: json.clientSecret as string }
}
