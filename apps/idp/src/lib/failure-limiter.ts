import { createRateLimiter } from '@mqtt-oidc/core'

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
  /** Keys held (for tests and metrics). */
  readonly size: number
}

// Keys are client addresses and usernames; an attacker cycling keys must not
// grow the map without bound. The oldest windows are dropped first.
const MAX_KEYS = 50_000

/**
 * Fixed-window failure counters in memory (per IdP process), on core's rate
 * limiter: ended windows are forgotten, at most MAX_KEYS are held. Only
 * failures count, and callers refuse an attempt that must wait before it can
 * fail, so a person who gets it right is never slowed down.
 */
export function createFailureLimiter(options: FailureLimit, now: () => number = Date.now): FailureLimiter {
  const counters = createRateLimiter(MAX_KEYS)
  // Failures are counted whatever the budget: retryAfter decides from the count.
  const unbounded = { requests: Number.MAX_SAFE_INTEGER, windowSeconds: options.windowSeconds }
  const seconds = (): number => now() / 1000
  return {
    retryAfter(key) {
      const t = seconds()
      const window = counters.window(key, t)
      if (!window || window.count < options.limit) return 0
      const backoff = options.backoff
      const until = backoff
        ? Math.min(window.end, window.last + Math.min(backoff.baseSeconds * 2 ** (window.count - options.limit), backoff.maxSeconds))
        : window.end
      const wait = until - t
      // Milliseconds divided into seconds may leave a hair above a whole number: 800.0000000001 is still 800.
      return wait > 0 ? Math.max(1, Math.ceil(wait - 1e-9)) : 0
    },
    count: (key) => counters.used(key, seconds()),
    fail(key) {
      counters.take(key, 1, unbounded, seconds())
    },
    reset: (key) => counters.reset(key),
    get size() {
      return counters.size
    },
  }
}
