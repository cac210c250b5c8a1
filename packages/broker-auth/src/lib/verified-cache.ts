import type { KeyObject } from 'node:crypto'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'

/** A token whose signature and claims verified, and the key that verified it. */
export interface VerifiedEntry {
  readonly claims: BrokerTokenClaims
  readonly key: KeyObject
}

export interface VerifiedCache {
  get(token: string): VerifiedEntry | undefined
  set(token: string, entry: VerifiedEntry): void
  readonly size: number
}

/**
 * Already-verified tokens keyed by the whole token string (equal strings
 * carry the same signature, so a hit needs no crypto), bounded to
 * `maxEntries` (oldest first out). The caller re-checks time, revocation and
 * that the key is still held on every hit. `maxEntries` 0 disables it.
 */
export function createVerifiedCache(maxEntries: number): VerifiedCache {
  const entries = new Map<string, VerifiedEntry>()
  return {
    get: (token) => entries.get(token),
    set(token, entry) {
      if (maxEntries <= 0) return
      entries.delete(token)
      entries.set(token, entry)
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done) break
        entries.delete(oldest.value)
      }
    },
    get size() {
      return entries.size
    },
  }
}
