import type { KeyObject } from 'node:crypto'
import type { BrokerTokenClaims } from '@mqtt-oidc/core'

/** A token whose signature and claims verified, and the key that verified it. */
export interface VerifiedEntry {
  readonly claims: BrokerTokenClaims
  readonly key: KeyObject
}

export interface VerifiedCache {
  get(token: string): VerifiedEntry | undefined
  /**
   * Offers a token that just verified. It is kept from its second offer on:
   * a token seen once (every renewal's new token, every first CONNECT) is
   * only noted, so the cache holds tokens that do come back.
   */
  offer(token: string, entry: VerifiedEntry): void
  readonly size: number
}

/**
 * Already-verified tokens keyed by the whole token string (equal strings
 * carry the same signature, so a hit needs no crypto), bounded to
 * `maxEntries` (oldest first out). The caller re-checks time, revocation and
 * that the key is still held on every hit. `maxEntries` 0 disables it.
 *
 * Admission on second sight: most CONNECTs bring a token the broker has
 * never seen (a first connection, a renewal), and caching each of them cost
 * more than the verify it might save: every entry (~1 KB with its claims)
 * lived long enough to be copied into the old generation and collected
 * there, about 15 µs of garbage collection per CONNECT in `bench:connect`.
 * A first offer only writes a fingerprint into a fixed table of numbers
 * (nothing for the collector); the second offer of the same token (a
 * reconnect) caches it, and later reconnects skip the signature check. A
 * fingerprint collision only admits a token early: a hit always compares
 * the whole token.
 */
export function createVerifiedCache(maxEntries: number): VerifiedCache {
  const entries = new Map<string, VerifiedEntry>()
  // a power of two, four slots per entry: a token's fingerprint survives about 4 x maxEntries other offers
  const slots = maxEntries <= 0 ? 0 : 2 ** Math.ceil(Math.log2(maxEntries * 4))
  const seen = new Int32Array(slots)
  return {
    get: (token) => entries.get(token),
    offer(token, entry) {
      if (slots === 0) return
      const print = fingerprint(token)
      const slot = (print >>> 1) & (slots - 1) // bit 0 is always set
      if (seen[slot] !== print) {
        seen[slot] = print
        return
      }
      entries.delete(token) // re-inserted: the newest last
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
      entries.set(token, entry)
    },
    get size() {
      return entries.size
    },
  }
}

/**
 * A non-zero 32-bit fingerprint of a token from the last six characters of
 * its signature (uniform for ECDSA and RSA signatures, all but the last few
 * bits for EdDSA; the token verified, so nobody chose them freely). Six
 * reads and a mix, no loop: it runs on every CONNECT with a new token.
 */
function fingerprint(token: string): number {
  const n = token.length
  const high = (token.charCodeAt(n - 1) << 24) ^ (token.charCodeAt(n - 2) << 16) ^ (token.charCodeAt(n - 3) << 8)
  const low = (token.charCodeAt(n - 4) << 21) ^ (token.charCodeAt(n - 5) << 10) ^ token.charCodeAt(n - 6)
  // mixed (lowbias32) so that every character reaches the low bits that pick the slot
  let x = high ^ low
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d)
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b)
  return (x ^ (x >>> 16)) | 1
}
