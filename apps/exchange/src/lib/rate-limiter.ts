/** Per-key fixed-window counters, in memory (one exchange instance). */
export interface RateLimiter {
  /** Counts one hit; returns 0 when allowed, else the seconds until the window resets. */
  hit(key: string, limit: number, windowSeconds: number, now: number): number
}

/** Windows are dropped once they have ended, at most once per second of calls. */
export function createRateLimiter(): RateLimiter {
  const windows = new Map<string, { start: number; end: number; count: number }>()
  let swept = 0
  return {
    hit(key, limit, windowSeconds, now) {
      if (now !== swept) {
        swept = now
        for (const [k, w] of windows) if (w.end <= now) windows.delete(k)
      }
      let w = windows.get(key)
      if (!w || w.end <= now) {
        w = { start: now, end: now + windowSeconds, count: 0 }
        windows.set(key, w)
      }
      if (w.count >= limit) return w.end - now
      w.count++
      return 0
    },
  }
}
