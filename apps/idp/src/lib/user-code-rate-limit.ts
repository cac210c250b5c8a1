import type { KoaContextWithOIDC, Provider } from 'oidc-provider'
import { createFailureLimiter, type FailureLimit, type FailureLimiter } from './failure-limiter.js'
import { errorPage } from './pages.js'
import { sendKoaPage } from './provider-pages.js'

export interface UserCodeRateLimit {
  /** Wrong user codes one client IP may enter per window. Default 20 per 10 minutes. */
  readonly perIp: FailureLimit
  /**
   * Wrong user codes all clients together may enter per window. This is what
   * bounds the odds of any one pending device code being guessed during its
   * lifetime, however many addresses an attacker has: with base-20 8-character
   * codes (20^8 = 2.56e10) and the default 1,000 per 10 minutes, under 4e-8
   * per device code. Default 1,000 per 10 minutes.
   */
  readonly global: FailureLimit
}

export const DEFAULT_USER_CODE_RATE_LIMIT: UserCodeRateLimit = Object.freeze({
  perIp: { limit: 20, windowSeconds: 600 },
  global: { limit: 1000, windowSeconds: 600 },
})

// Contexts whose user code was not found, marked by our code-entry page
// (deviceFlowSources), read once the route has finished.
const wrongCodes = new WeakSet<object>()

/** Called by the code-entry page when it re-renders for an unknown code. */
export function markWrongUserCode(ctx: object): void {
  wrongCodes.add(ctx)
}

const GLOBAL_KEY = '*'

/** The counters of wrong user codes; one per IdP, kept when its provider is rebuilt (new signing keys). */
export interface UserCodeLimiter {
  readonly perIp: FailureLimiter
  readonly global: FailureLimiter
}

export function createUserCodeLimiter(limits: UserCodeRateLimit): UserCodeLimiter {
  return { perIp: createFailureLimiter(limits.perIp), global: createFailureLimiter(limits.global) }
}

/**
 * RFC 8628 §5.1 user-code brute force protection on POST `path`: a client IP
 * (or everyone, see `global`) over its budget of wrong codes gets 429 with
 * `Retry-After` before the code is looked up, so a blocked guess reveals
 * nothing, right or wrong. Only wrong codes count, and nothing happens to the
 * device codes themselves: the real code keeps working for its owner.
 */
export function useUserCodeRateLimit(provider: Provider, path: string, limiter: UserCodeLimiter): void {
  const { perIp, global } = limiter
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    if (ctx.method !== 'POST' || ctx.path !== path) {
      await next()
      return
    }
    const ip = ctx.ip
    const wait = Math.max(perIp.retryAfter(ip), global.retryAfter(GLOBAL_KEY))
    if (wait > 0) {
      ctx.status = 429
      ctx.set('Retry-After', String(wait))
      const minutes = Math.ceil(wait / 60)
      sendKoaPage(ctx, errorPage({
        title: 'Too many attempts',
        message: `Too many incorrect codes were entered. Wait ${minutes} minute${minutes === 1 ? '' : 's'}, then open ${path} again and enter the code shown on your device.`,
        code: 'too_many_requests',
      }))
      provider.emit('code_verification.error', ctx, { error: 'rate_limited', error_description: 'too many wrong user codes' })
      return
    }
    await next()
    if (wrongCodes.has(ctx)) {
      perIp.fail(ip)
      global.fail(GLOBAL_KEY)
    }
  })
}
