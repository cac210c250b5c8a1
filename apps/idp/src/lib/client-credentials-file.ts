import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { writeSecretFile, writeSecretFileIfAbsent } from '@mqtt-oidc/core'
import { z } from 'zod'

/** A built-in confidential client's file in the data dir (mode 0600): where to reach it, and its secret. */
export interface ClientCredentialsFile<Id extends string> {
  /** The IdP's issuer URL. */
  readonly issuer: string
  /** The exchange URL. */
  readonly exchange: string
  readonly clientId: Id
  readonly clientSecret: string
}

/**
 * Reads `<dataDir>/<file>`, creating it with a new random secret on first
 * use. The secret survives restarts; `issuer` and `exchange` are rewritten
 * when the configuration changed, so whoever reads the file finds the
 * current URLs next to the secret.
 */
export function loadOrCreateClientFile<Id extends string>(
  dataDir: string,
  file: string,
  clientId: Id,
  urls: { issuer: string; exchange: string },
): ClientCredentialsFile<Id> {
  const path = join(dataDir, file)
  const schema = z.object({ issuer: z.string(), exchange: z.string(), clientId: z.literal(clientId), clientSecret: z.string().min(32) })
  const read = (): ClientCredentialsFile<Id> => schema.parse(JSON.parse(readFileSync(path, 'utf8')))
  let stored = existsSync(path) ? read() : undefined
  if (!stored) {
    const created: ClientCredentialsFile<Id> = { issuer: urls.issuer, exchange: urls.exchange, clientId, clientSecret: randomBytes(32).toString('base64url') }
    // IdP replicas sharing the data directory, started together: the first one's secret is everyone's
    if (writeSecretFileIfAbsent(path, `${JSON.stringify(created, null, 2)}\n`)) return created
    stored = read()
  }
  const content: ClientCredentialsFile<Id> = { issuer: urls.issuer, exchange: urls.exchange, clientId, clientSecret: stored.clientSecret }
  if (stored.issuer !== content.issuer || stored.exchange !== content.exchange) {
    writeSecretFile(path, `${JSON.stringify(content, null, 2)}\n`)
  }
  return content
}
