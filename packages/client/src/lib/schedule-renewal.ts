import type { ConnectToken } from '../connect-with-token.js'
import { LoginRequired } from '../errors.js'

const MAX_TIMER_MS = 2_147_483_647

export interface RenewalOptions {
  readonly getToken: () => Promise<ConnectToken>
  /** Renew this many seconds before `expiresAt`, capped at half the remaining lifetime. */
  readonly renewBeforeSeconds: number
  /** A new token is in hand. */
  readonly onToken: (token: ConnectToken) => void
  /** A renewal failed; it is retried while the current token is still valid, except `LoginRequired`. */
  readonly onError: (err: unknown) => void
}

/**
 * Renews a token ahead of its expiry, again and again, until stopped. A
 * failed renewal is retried at half the time left (at most every 30 s) while
 * the current token is valid, since the IdP or exchange may be back soon.
 */
export function scheduleRenewal(first: ConnectToken, options: RenewalOptions): { stop(): void } {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const plan = (t: ConnectToken): void => {
    if (stopped || t.expiresAt === undefined) return
    const left = t.expiresAt - Date.now() / 1000
    const before = Math.min(options.renewBeforeSeconds, left / 2)
    arm((left - before) * 1000, t)
  }
  const arm = (ms: number, current: ConnectToken): void => {
    timer = setTimeout(() => void renew(current), Math.min(Math.max(ms, 0), MAX_TIMER_MS))
    timer.unref()
  }
  const renew = async (current: ConnectToken): Promise<void> => {
    try {
      const next = await options.getToken()
      if (stopped) return
      options.onToken(next)
      plan(next)
    } catch (err) {
      if (stopped) return
      options.onError(err)
      const left = (current.expiresAt ?? 0) - Date.now() / 1000
      // LoginRequired needs a person; the broker will refuse the expired token and the client ends.
      if (!(err instanceof LoginRequired) && left > 1) arm(Math.min(30, left / 2) * 1000, current)
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
