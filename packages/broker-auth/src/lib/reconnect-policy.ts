export interface ReconnectPolicyOptions {
  /** First retry window after a failure, ms; doubles per consecutive failure. */
  readonly retryMs: number
  /** Largest retry window, ms. */
  readonly maxRetryMs: number
  /** Uniform random number in [0, 1). Default `Math.random`. */
  readonly random?: () => number
}

export interface ReconnectPolicy {
  /** The window after `failures` consecutive failures (1, 2, ...): min(max, retry * 2^(failures-1)), ms. */
  window(failures: number): number
  /** How long to wait after `failures` consecutive failures: uniform in [0, window(failures)), ms. */
  delay(failures: number): number
}

/**
 * Exponential back-off with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): the wait is drawn uniformly from the whole window,
 * not just its upper half. When an exchange restarts, every broker's stream
 * drops in the same instant; full jitter spreads a thousand reconnects
 * evenly over the first window instead of sending them in one burst per
 * doubling, and it needs no state beyond the failure count (decorrelated
 * jitter carries the previous delay). A near-zero wait costs one cheap
 * request, and the window still doubles while the exchange stays down.
 */
export function createReconnectPolicy(options: ReconnectPolicyOptions): ReconnectPolicy {
  const random = options.random ?? Math.random
  const window = (failures: number): number => Math.min(options.retryMs * 2 ** Math.max(0, failures - 1), options.maxRetryMs)
  return {
    window,
    delay: (failures) => Math.floor(random() * window(failures)),
  }
}
