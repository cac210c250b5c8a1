import type { ConnectToken } from '../connect-with-token.js'
import { LoginRequired } from '../errors.js'
import { createBackoff } from './create-backoff.js'

const MAX_TIMER_MS = 2_147_483_647

/**
 * Share of the time before the latest renewal point over which renewals are
 * spread at random: a fleet whose tokens were issued together (all started
 * at once, or all came back after an outage) renews over the last quarter of
 * that time instead of in the same second.
 */
export const RENEWAL_JITTER = 0.25

/** Back-off of failed renewals: the first retry within 1 s, doubling up to 30 s (and never later than half the time left). */
export const RENEWAL_RETRY = { initialMs: 1000, maxMs: 30_000 } as const

export interface RenewalOptions {
  readonly getToken: () => Promise<ConnectToken>
  /** Renew at the latest this many seconds before `expiresAt`, capped at half the remaining lifetime. */
  readonly renewBeforeSeconds: number
  /** A new token is in hand. */
  readonly onToken: (token: ConnectToken) => void
  /** A renewal failed; it is retried while the current token is still valid, except `LoginRequired`. */
  readonly onError: (err: unknown) => void
  /** Uniform random number in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined
}

/**
 * Renews a token ahead of its expiry, again and again, until stopped.
 *
 * The latest renewal point is `renewBeforeSeconds` before `expiresAt` (at
 * most half the time left); the renewal fires at a random time in the last
 * `RENEWAL_JITTER` of the time until then, never after it. A failed renewal
 * is retried with exponential back-off and jitter (`RENEWAL_RETRY`), capped
 * at half the time the current token has left, while that token is valid,
 * since the IdP or exchange may be back soon.
 */
export function scheduleRenewal(first: ConnectToken, options: RenewalOptions): { stop(): void } {
  const random = options.random ?? Math.random
  const retries = createBackoff({ ...RENEWAL_RETRY, random })
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const plan = (t: ConnectToken): void => {
    if (stopped || t.expiresAt === undefined) return
    const left = t.expiresAt - Date.now() / 1000
    const latest = left - Math.min(options.renewBeforeSeconds, left / 2)
    arm(latest * (1 - RENEWAL_JITTER * random()) * 1000, t)
  }
  const arm = (ms: number, current: ConnectToken): void => {
    timer = setTimeout(() => void renew(current), Math.min(Math.max(ms, 0), MAX_TIMER_MS))
    timer.unref()
  }
  const renew = async (current: ConnectToken): Promise<void> => {
    try {
      const next = await options.getToken()
      if (stopped) return
      retries.reset()
      options.onToken(next)
      plan(next)
    } catch (err) {
      if (stopped) return
      options.onError(err)
      const left = (current.expiresAt ?? 0) - Date.now() / 1000
      // LoginRequired needs a person; the broker will refuse the expired token and the client ends.
      if (!(err instanceof LoginRequired) && left > 1) arm(Math.min(retries.next(), (left / 2) * 1000), current)
    }
  }
  plan(first)
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
