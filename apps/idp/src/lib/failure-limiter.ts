/** How many failures a key may have within a window. */
export interface FailureLimit {
  /** Failures allowed per window. */
  readonly limit: number
  /** Window length in seconds. */
  readonly windowSeconds: number
}

export interface FailureLimiter {
  /** Seconds until `key` may try again; 0 when it may try now. */
  retryAfter(key: string): number
  /** Counts one failure for `key`. */
  fail(key: string): void
  /** Forgets `key` (e.g. after a successful login). */
  reset(key: string): void
}

interface Window { start: number; count: number }

// Keys are client IPs and usernames; an attacker cycling keys must not grow
// the map without bound. The oldest windows are dropped first.
const MAX_KEYS = 50_000

/**
 * Fixed-window failure counters in memory (one instance; a shared store is
 * needed before several IdP instances sit behind one name). Only failures
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
      return Math.max(1, Math.ceil((window.start + windowMs - now()) / 1000))
    },
    fail(key) {
      const window = current(key)
      if (window) {
        window.count += 1
        return
      }
      windows.set(key, { start: now(), count: 1 })
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
