import type { ReadinessCheck } from '@mqtt-oidc/core'
import { DEFAULT_JWKS_MAX_STALE_MS } from '@mqtt-oidc/jose'
import type { FeedGuard, KeyStore } from '@mqtt-oidc/broker-auth'

/** The feed guard's default staleness limit, ms (createFeedGuard's). */
const DEFAULT_FEED_MAX_STALE_MS = 60_000

/**
 * What `/readyz` checks on a broker or an EMQX hook: it is listening, it
 * holds verification keys from a JWKS fetched within `jwksMaxStaleMs` (the
 * longest the last good keys keep verifying), and it heard from the
 * revocation feed within `maxStaleMs` (beyond it, fail-closed refuses new
 * clients, and fail-open lets in tokens that may have been revoked).
 */
export function brokerReadiness(options: {
  readonly keys: Pick<KeyStore, 'state'>
  readonly feedGuard: Pick<FeedGuard, 'lagMs'>
  readonly listening: () => boolean
  readonly maxStaleMs?: number | undefined
  readonly jwksMaxStaleMs?: number | undefined
}): Record<string, ReadinessCheck> {
  const feedLimit = options.maxStaleMs ?? DEFAULT_FEED_MAX_STALE_MS
  const keysLimit = options.jwksMaxStaleMs ?? DEFAULT_JWKS_MAX_STALE_MS
  return {
    listening: () => ({ ok: options.listening() }),
    keys: () => {
      const { keys, lastSuccessAt } = options.keys.state()
      const age = lastSuccessAt === null ? null : Math.round((Date.now() - lastSuccessAt) / 1000)
      return { ok: keys > 0 && age !== null && age * 1000 <= keysLimit, keys, age_seconds: age }
    },
    revocation_feed: () => {
      const lag = options.feedGuard.lagMs()
      return { ok: lag !== null && lag <= feedLimit, lag_seconds: lag === null ? null : Math.round(lag / 1000), limit_seconds: Math.round(feedLimit / 1000) }
    },
  }
}
