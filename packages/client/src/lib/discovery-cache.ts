import { readFile } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { ServerMetadata } from 'openid-client'
import { writeSecretFile } from '@mqtt-oidc/core'
import { isRecord } from '@mqtt-oidc/core'

interface Entry {
  readonly fetchedAt: number
  readonly metadata: ServerMetadata
}

/** `<dir>/discovery.json`: the IdP metadata documents last discovered, by issuer URL. */
export function discoveryCachePath(dir: string): string {
  return join(dir, 'discovery.json')
}

/** The cached metadata of `issuer` and when it was fetched (epoch seconds), if any. */
export async function readCachedDiscovery(dir: string, issuer: string): Promise<Entry | undefined> {
  const all = await readAll(dir)
  const entry = all[issuer]
  return isRecord(entry) && typeof entry.fetchedAt === 'number' && isRecord(entry.metadata) && entry.metadata.issuer === issuer
    ? (entry as unknown as Entry)
    : undefined
}

/** Records `metadata` as discovered now. A lost race between two processes only costs a later re-discovery. */
export async function writeCachedDiscovery(dir: string, issuer: string, metadata: ServerMetadata): Promise<void> {
  const all = await readAll(dir)
  all[issuer] = { fetchedAt: Math.floor(Date.now() / 1000), metadata }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeSecretFile(discoveryCachePath(dir), `${JSON.stringify(all, null, 2)}\n`)
}

async function readAll(dir: string): Promise<Record<string, unknown>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(discoveryCachePath(dir), 'utf8'))
    return isRecord(parsed) ? parsed : {}
  } catch {
    return {} // missing or damaged: it is only a cache
  }
}
