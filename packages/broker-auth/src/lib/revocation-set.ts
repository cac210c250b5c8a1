/** One revoked jti and when its token expires (epoch seconds; null = never). */
export interface RevokedEntry {
  readonly jti: string
  readonly expiresAt: number | null
}

export interface RevocationSet {
  has(jti: string): boolean
  /** True when the jti was not revoked before. */
  revoke(jti: string, expiresAt: number | null): boolean
  /** True when the jti was revoked before. */
  unrevoke(jti: string): boolean
  /** Replaces the whole set; returns the jtis that were added and removed. */
  replace(entries: readonly RevokedEntry[]): { added: string[]; removed: string[] }
  /** Drops entries whose token expired before `nowSeconds`; returns how many. */
  prune(nowSeconds: number): number
  readonly size: number
}

/** In-memory revoked-jti set: O(1) lookups on the CONNECT path. */
export function createRevocationSet(): RevocationSet {
  let entries = new Map<string, number | null>()
  return {
    has: (jti) => entries.has(jti),
    revoke(jti, expiresAt) {
      const added = !entries.has(jti)
      entries.set(jti, expiresAt)
      return added
    },
    unrevoke: (jti) => entries.delete(jti),
    replace(list) {
      const next = new Map(list.map((e) => [e.jti, e.expiresAt] as const))
      const added = [...next.keys()].filter((jti) => !entries.has(jti))
      const removed = [...entries.keys()].filter((jti) => !next.has(jti))
      entries = next
      return { added, removed }
    },
    prune(nowSeconds) {
      let n = 0
      for (const [jti, exp] of entries) {
        if (exp !== null && exp < nowSeconds) {
          entries.delete(jti)
          n++
        }
      }
      return n
    },
    get size() {
      return entries.size
    },
  }
}
