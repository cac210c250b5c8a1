/**
 * How many failures a key may have within a window, and what happens after.
 * Without `backoff`, a key over its budget waits until the window ends.
 * With it, each further attempt waits `baseSeconds`, doubling with every
 * failure counted, up to `maxSeconds` after the last failure: a delay that
 * grows, never a lock, and the window's end clears it.
 */
export interface FailureLimit {
  /** Failures allowed per window before any wait. */
  readonly limit: number
  /** Window length in seconds (a fixed window from the key's first failure). */
  readonly windowSeconds: number
  /** Growing delays instead of a block until the window ends. */
  readonly backoff?: { readonly baseSeconds: number; readonly maxSeconds: number } | undefined
}

export interface FailureLimiter {
  /** Seconds until `key` may try again; 0 when it may try now. */
  retryAfter(key: string): number
  /** Failures counted for `key` in its current window. */
  count(key: string): number
  /** Counts one failure for `key`. */
  fail(key: string): void
  /** Forgets `key` (e.g. after a successful login). */
  reset(key: string): void
}

interface Window { start: number; count: number; last: number }

// Keys are client addresses and usernames; an attacker cycling keys must not
// grow the map without bound. The oldest windows are dropped first.
const MAX_KEYS = 50_000

/**
 * Fixed-window failure counters in memory (per IdP process). Only failures
 * count, so a person who gets it right is never slowed down.
 */
export function createFailureLimiter(options: FailureLimit, now: () => number = Date.now): FailureLimiter {
  const windows = new Map<string, Window>()
  const windowMs = options.windowSeconds * 1000
  const current = (key: string): Window | undefined => {
    const window = windows.get(key)
    if (window && now() - window.start >= windowMs) {
      windows.delete(key)
      return undefined
    }
    return window
  }
  return {
    retryAfter(key) {
      const window = current(key)
      if (!window || window.count < options.limit) return 0
      const end = window.start + windowMs
      const backoff = options.backoff
      const until = backoff
        ? Math.min(end, window.last + Math.min(backoff.baseSeconds * 2 ** (window.count - options.limit), backoff.maxSeconds) * 1000)
        : end
      const wait = until - now()
      return wait > 0 ? Math.max(1, Math.ceil(wait / 1000)) : 0
    },
    count: (key) => current(key)?.count ?? 0,
    fail(key) {
      const window = current(key)
      if (window) {
        window.count += 1
        window.last = now()
        return
      }
      windows.set(key, { start: now(), count: 1, last: now() })
      if (windows.size > MAX_KEYS) {
        const oldest = windows.keys().next().value
        if (oldest !== undefined) windows.delete(oldest)
      }
    },
    reset(key) {
      windows.delete(key)
    },
  }
}
