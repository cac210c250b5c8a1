/** A budget: `requests` units per fixed window of `windowSeconds`. */
export interface RateLimit {
  readonly requests: number
  readonly windowSeconds: number
}

/** A key's current window. */
export interface RateWindow {
  /** Units counted in it. */
  readonly count: number
  /** When it ends (seconds, the clock of `now`). */
  readonly end: number
  /** When its last units were counted. */
  readonly last: number
}

/**
 * Per-key fixed-window counters held in this process's memory: each instance
 * counts on its own, so N instances behind a load balancer allow up to N
 * times a limit (spread evenly, about the limit per instance each). Times
 * are seconds on any clock the caller keeps to (fractions allowed).
 */
export interface RateLimiter {
  /** Seconds until `cost` more units of `key` fit in `limit` (0: they fit now). Counts nothing. */
  wait(key: string, cost: number, limit: RateLimit, now: number): number
  /** Units of `key` counted in its current window. */
  used(key: string, now: number): number
  /** Counts `cost` units of `key` when they fit and returns 0; else counts nothing and returns `wait`. */
  take(key: string, cost: number, limit: RateLimit, now: number): number
  /** The key's current window, if one has not ended. */
  window(key: string, now: number): RateWindow | undefined
  /** Forgets `key` (a success that clears its failures). */
  reset(key: string): void
  /** Keys held (for tests and metrics). */
  readonly size: number
}

/** Default most keys held at once. */
export const MAX_RATE_LIMIT_KEYS = 100_000

/**
 * The one rate limiter of the exchange's request budgets and the IdP's
 * failure budgets. Memory is bounded: windows are dropped once they have
 * ended (swept at most once per second), and past `maxKeys` the oldest
 * window goes first. Dropping a live window forgets that key's count, so a
 * flood of distinct keys can at worst let some keys start afresh; it never
 * refuses anyone who is under a limit. A refused call counts nothing, so
 * retrying when told costs no budget.
 *
 * @example
 * const limiter = createRateLimiter()
 * const retryAfter = limiter.take(subject, 1, { requests: 20, windowSeconds: 60 }, Math.floor(Date.now() / 1000))
 */
export function createRateLimiter(maxKeys = MAX_RATE_LIMIT_KEYS): RateLimiter {
  // Insertion order is window start order: the first entry is the oldest.
  const windows = new Map<string, { end: number; count: number; last: number }>()
  let swept = Number.NEGATIVE_INFINITY
  const sweep = (now: number): void => {
    if (now < swept + 1) return
    swept = now
    for (const [k, w] of windows) if (w.end <= now) windows.delete(k)
  }
  const current = (key: string, now: number): { end: number; count: number; last: number } | undefined => {
    const w = windows.get(key)
    return w && w.end > now ? w : undefined
  }
  const wait = (key: string, cost: number, limit: RateLimit, now: number): number => {
    const w = current(key, now)
    if ((w?.count ?? 0) + cost <= limit.requests) return 0
    // A cost above the whole limit never fits; callers refuse it before asking.
    return w ? w.end - now : limit.windowSeconds
  }
  return {
    wait,
    used: (key, now) => current(key, now)?.count ?? 0,
    take(key, cost, limit, now) {
      sweep(now)
      const retry = wait(key, cost, limit, now)
      if (retry > 0) return retry
      let w = current(key, now)
      if (!w) {
        windows.delete(key)
        if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!)
        w = { end: now + limit.windowSeconds, count: 0, last: now }
        windows.set(key, w)
      }
      w.count += cost
      w.last = now
      return 0
    },
    window: (key, now) => {
      const w = current(key, now)
      return w && { ...w }
    },
    reset: (key) => {
      windows.delete(key)
    },
    get size() {
      return windows.size
    },
  }
}
