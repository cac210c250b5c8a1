import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeSecretFile } from '@mqtt-oidc/core'
import { isRecord } from '@mqtt-oidc/core'
import { storeKey } from './lib/store-key.js'
import { withFileLock } from './lib/with-file-lock.js'
import type { TokenSet } from './token-set.js'

/** Which login an entry belongs to: one per issuer and OIDC client. */
export interface TokenStoreKey {
  readonly issuer: string
  readonly clientId: string
}

/** Token cache; every method is safe to call from several processes at once. */
export interface TokenStore {
  /** The file holding every entry (`<dir>/tokens.json`, mode 0600). */
  readonly path: string
  get(key: TokenStoreKey): Promise<TokenSet | undefined>
  set(key: TokenStoreKey, tokens: TokenSet): Promise<void>
  /** Removes the entry; true when there was one. */
  delete(key: TokenStoreKey): Promise<boolean>
  /**
   * Read-modify-write under the store's lock: `fn` gets the current entry
   * and returns the new one (`undefined` removes it). Another process calling
   * `update` waits, then sees the result, so a refresh token is redeemed once.
   */
  update(key: TokenStoreKey, fn: (current: TokenSet | undefined) => Promise<TokenSet | undefined>): Promise<TokenSet | undefined>
}

/**
 * A file-based token store: `<dir>/tokens.json`, an object keyed by
 * `${issuer}|${clientId}`. Writes are atomic (temp file + rename, mode 0600,
 * directory 0700) and serialised across processes by a lock file, so two
 * `mqtt-oidc` processes never lose each other's updates.
 *
 * @example
 * const store = createTokenStore(join(homedir(), '.config', 'mqtt-oidc'))
 */
export function createTokenStore(dir: string): TokenStore {
  const path = join(dir, 'tokens.json')
  const lockPath = `${path}.lock`

  const locked = async <T>(fn: (all: Record<string, TokenSet>) => Promise<{ result: T; changed: boolean }>): Promise<T> => {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    return withFileLock(lockPath, async () => {
      const all = await readAll(path)
      const { result, changed } = await fn(all)
      if (changed) writeSecretFile(path, `${JSON.stringify(all, null, 2)}\n`)
      return result
    })
  }

  return {
    path,
    async get(key) {
      return (await readAll(path))[storeKey(key)]
    },
    async set(key, tokens) {
      await locked(async (all) => {
        all[storeKey(key)] = tokens
        return { result: undefined, changed: true }
      })
    },
    async delete(key) {
      return locked(async (all) => {
        const k = storeKey(key)
        if (!(k in all)) return { result: false, changed: false }
        delete all[k]
        return { result: true, changed: true }
      })
    },
    async update(key, fn) {
      return locked(async (all) => {
        const k = storeKey(key)
        const current = all[k]
        const next = await fn(current)
        if (next === current) return { result: next, changed: false }
        if (next === undefined) delete all[k]
        else all[k] = next
        return { result: next, changed: true }
      })
    },
  }
}

async function readAll(path: string): Promise<Record<string, TokenSet>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`token store ${path} is not valid JSON: delete it and log in again`)
  }
  if (!isRecord(parsed)) throw new Error(`token store ${path} is not a JSON object: delete it and log in again`)
  const out: Record<string, TokenSet> = {}
  for (const [k, v] of Object.entries(parsed)) {
    if (isTokenSet(v)) out[k] = v
  }
  return out
}

function isTokenSet(v: unknown): v is TokenSet {
  return isRecord(v) && typeof v.idToken === 'string' && typeof v.expiresAt === 'number'
}
