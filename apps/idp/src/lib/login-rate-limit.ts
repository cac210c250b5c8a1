import { createFailureLimiter, type FailureLimit } from './failure-limiter.js'

export interface LoginRateLimit {
  /**
   * Failed logins per (username, client address): what one address may try
   * against one account. Default 10 per 24 hours, then waits of 1 minute
   * doubling up to 1 hour; a success at that address clears it.
   */
  readonly perAccountIp: FailureLimit
  /** Failed logins per client address, whatever the username (password spraying). Default 50 per 15 minutes. */
  readonly perIp: FailureLimit
  /**
   * Failed logins per username from clients it does not know (every address
   * together): what many addresses may try against one account. Default 100
   * per 24 hours, then waits of 1 second doubling up to 1 hour, for unknown
   * clients only: a browser or an address the account signed in from is not
   * slowed down by others' failures.
   */
  readonly perAccount: FailureLimit
  /** How long an address (and a browser, by its cookie) stays known after a sign-in, seconds. Default 30 days. */
  readonly knownForSeconds: number
}

export const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimit = Object.freeze({
  perAccountIp: { limit: 10, windowSeconds: 86400, backoff: { baseSeconds: 60, maxSeconds: 3600 } },
  perIp: { limit: 50, windowSeconds: 900 },
  perAccount: { limit: 100, windowSeconds: 86400, backoff: { baseSeconds: 1, maxSeconds: 3600 } },
  knownForSeconds: 30 * 86400,
})

/** One login attempt as the limits see it. */
export interface LoginAttempt {
  readonly username: string
  /** The client's address (behind trusted proxies: as the outermost one saw it). */
  readonly ip: string
  /** The browser carries a valid cookie of an earlier sign-in to this username. */
  readonly knownBrowser: boolean
}

export interface LoginLimiter {
  /** Seconds to wait before this login may be tried; 0 when it may be tried now. */
  retryAfter(attempt: LoginAttempt): number
  failed(attempt: LoginAttempt): void
  succeeded(attempt: LoginAttempt): void
}

// Known (account, address) pairs; bounded like the failure counters.
const MAX_KNOWN = 50_000

/**
 * Failed-login limits, checked before the password (no scrypt work, and
 * nothing learnt, for an attempt that must wait). No switch turns sign-in
 * off for the real user from somewhere else: an attacker's failures count
 * against its own addresses, and against the account only for clients the
 * account has never signed in from (a growing delay, never a lock). A
 * success clears its (username, address) count, never the address's
 * spraying count or the account's.
 */
export function createLoginLimiter(limits: LoginRateLimit, now: () => number = Date.now): LoginLimiter {
  const perAccountIp = createFailureLimiter(limits.perAccountIp, now)
  const perIp = createFailureLimiter(limits.perIp, now)
  const perAccount = createFailureLimiter(limits.perAccount, now)
  const knownAddresses = new Map<string, number>()
  const account = (username: string): string => username.normalize('NFC').toLowerCase()
  const pair = (a: LoginAttempt): string => `${account(a.username)}\u0000${a.ip}`
  const known = (a: LoginAttempt): boolean => {
    if (a.knownBrowser) return true
    const until = knownAddresses.get(pair(a))
    if (until !== undefined && until <= now()) knownAddresses.delete(pair(a))
    return until !== undefined && until > now()
  }
  return {
    retryAfter: (a) => Math.max(perAccountIp.retryAfter(pair(a)), perIp.retryAfter(a.ip), known(a) ? 0 : perAccount.retryAfter(account(a.username))),
    failed(a) {
      perAccountIp.fail(pair(a))
      perIp.fail(a.ip)
      if (!known(a)) perAccount.fail(account(a.username))
    },
    succeeded(a) {
      perAccountIp.reset(pair(a))
      knownAddresses.delete(pair(a))
      knownAddresses.set(pair(a), now() + limits.knownForSeconds * 1000)
      if (knownAddresses.size > MAX_KNOWN) {
        const oldest = knownAddresses.keys().next().value
        if (oldest !== undefined) knownAddresses.delete(oldest)
      }
    },
  }
}
