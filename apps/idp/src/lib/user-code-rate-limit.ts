import type { KoaContextWithOIDC, Provider } from 'oidc-provider'
import { createFailureLimiter, type FailureLimit } from './failure-limiter.js'
import { errorPage } from './pages.js'
import { sendKoaPage } from './provider-pages.js'

export interface UserCodeRateLimit {
  /** Wrong user codes one client address may enter per window. Default 20 per 10 minutes. */
  readonly perIp: FailureLimit
  /**
   * Wrong user codes of all clients together per window before the IdP is
   * "under attack". It never blocks everyone: beyond it, each address may
   * enter only `perIpUnderAttack` wrong codes per `perIp` window, so a person
   * who types the right code (from an address without wrong ones) always
   * gets in. docs/security.md has the sums. Default 10,000 per 10 minutes.
   */
  readonly global: FailureLimit
  /** Wrong codes per address per `perIp` window while over `global`. Default 3. */
  readonly perIpUnderAttack: number
}

export const DEFAULT_USER_CODE_RATE_LIMIT: UserCodeRateLimit = Object.freeze({
  perIp: { limit: 20, windowSeconds: 600 },
  global: { limit: 10_000, windowSeconds: 600 },
  perIpUnderAttack: 3,
})

// Contexts whose user code was not found, marked by our code-entry page
// (createDeviceFlowSources), read once the route has finished.
const wrongCodes = new WeakSet<object>()

/** Called by the code-entry page when it re-renders for an unknown code. */
export function markWrongUserCode(ctx: object): void {
  wrongCodes.add(ctx)
}

const GLOBAL_KEY = '*'

/** The counters of wrong user codes; one per IdP, kept when its provider is rebuilt (new signing keys). */
export interface UserCodeLimiter {
  /** Seconds until `ip` may enter a code again; 0 when it may now. */
  retryAfter(ip: string): number
  /** Counts one wrong code from `ip`. */
  fail(ip: string): void
}

export function createUserCodeLimiter(limits: UserCodeRateLimit, now: () => number = Date.now): UserCodeLimiter {
  const perIp = createFailureLimiter(limits.perIp, now)
  const global = createFailureLimiter(limits.global, now)
  // An address's own budget, cut down to `perIpUnderAttack` while everyone together is over theirs.
  const underAttack = createFailureLimiter({ ...limits.perIp, limit: limits.perIpUnderAttack }, now)
  return {
    retryAfter: (ip) => Math.max(perIp.retryAfter(ip), global.retryAfter(GLOBAL_KEY) > 0 ? underAttack.retryAfter(ip) : 0),
    fail(ip) {
      perIp.fail(ip)
      underAttack.fail(ip)
      global.fail(GLOBAL_KEY)
    },
  }
}

/**
 * RFC 8628 §5.1 user-code brute force protection on POST `path`: a client
 * address over its budget of wrong codes (smaller while everyone together is
 * over the global one) gets 429 with `Retry-After` before the code is looked
 * up, so a blocked guess reveals nothing, right or wrong. Only wrong codes
 * count, and nothing happens to the device codes themselves: the real code
 * keeps working for its owner.
 */
export function useUserCodeRateLimit(provider: Provider, path: string, limiter: UserCodeLimiter): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    if (ctx.method !== 'POST' || ctx.path !== path) {
      await next()
      return
    }
    const ip = ctx.ip
    const wait = limiter.retryAfter(ip)
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
    if (wrongCodes.has(ctx)) limiter.fail(ip)
  })
}
