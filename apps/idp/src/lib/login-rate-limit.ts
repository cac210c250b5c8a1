import { createFailureLimiter, type FailureLimit, type FailureLimiter } from './failure-limiter.js'

export interface LoginRateLimit {
  /** Failed logins per username (existing or not, so a 429 reveals nothing). Default 10 per 15 minutes. */
  readonly perAccount: FailureLimit
  /** Failed logins per client IP, whatever the username (password spraying). Default 50 per 15 minutes. */
  readonly perIp: FailureLimit
}

export const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimit = Object.freeze({
  perAccount: { limit: 10, windowSeconds: 900 },
  perIp: { limit: 50, windowSeconds: 900 },
})

export interface LoginLimiter {
  /** Seconds to wait before this login may be tried; 0 when it may be tried now. */
  retryAfter(username: string, ip: string): number
  failed(username: string, ip: string): void
  succeeded(username: string): void
}

/**
 * Failed-login limits, checked before the password (no scrypt work for a
 * blocked attempt). A successful login clears the username's count but not
 * the IP's, so one good account does not reset a spraying budget.
 */
export function createLoginLimiter(limits: LoginRateLimit): LoginLimiter {
  const perAccount: FailureLimiter = createFailureLimiter(limits.perAccount)
  const perIp: FailureLimiter = createFailureLimiter(limits.perIp)
  const accountKey = (username: string): string => username.normalize('NFC').toLowerCase()
  return {
    retryAfter: (username, ip) => Math.max(perAccount.retryAfter(accountKey(username)), perIp.retryAfter(ip)),
    failed(username, ip) {
      perAccount.fail(accountKey(username))
      perIp.fail(ip)
    },
    succeeded: (username) => perAccount.reset(accountKey(username)),
  }
}
