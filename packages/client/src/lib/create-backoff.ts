export interface BackoffOptions {
  /** Ceiling of the first delay, ms; each further attempt doubles it. */
  readonly initialMs: number
  /** Largest ceiling, ms. */
  readonly maxMs: number
  /** Uniform random number in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined
}

export interface Backoff {
  /** The delay before the next attempt, ms, and counts the attempt. */
  next(): number
  /** Back to the first delay (after a success). */
  reset(): void
}

/**
 * Exponential back-off with "equal jitter": attempt n waits a random time
 * between half and all of `min(maxMs, initialMs * 2^n)`. The random half
 * keeps a fleet that lost its broker (or exchange) at the same instant from
 * coming back in lockstep; the fixed half keeps any one client from
 * hammering a server that is still down.
 *
 * @example
 * const backoff = createBackoff({ initialMs: 1000, maxMs: 30_000 })
 * setTimeout(retry, backoff.next()) // 500..1000 ms, then 1000..2000 ms, ...
 */
export function createBackoff(options: BackoffOptions): Backoff {
  const random = options.random ?? Math.random
  let attempts = 0
  return {
    next() {
      // 2^attempts stops growing once past the cap (no overflow on long outages)
      const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempts, 30))
      attempts += 1
      return ceiling / 2 + (ceiling / 2) * random()
    },
    reset() {
      attempts = 0
    },
  }
}
