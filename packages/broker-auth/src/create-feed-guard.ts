import { RevocationsUnavailable } from '@mqtt-oidc/core'
import type { RevocationFollowerState } from './create-revocation-follower.js'
import type { LogFn } from './types.js'

/** What a broker does with new CONNECTs once the revocation feed has been out of reach too long. */
export type FeedPolicy = 'fail-closed' | 'fail-open'

export interface FeedGuardOptions {
  /** The follower whose `lastContactAt` is watched. Required. */
  follower: { state(): RevocationFollowerState }
  /** How long the feed may be out of reach before the policy applies, in ms. Default 60000. */
  maxStaleMs?: number
  /** `fail-closed` (default): refuse new CONNECTs (CONNACK 3); `fail-open`: accept them and log at warn. */
  policy?: FeedPolicy
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number
  log?: LogFn
}

export interface FeedGuard {
  /** Throws `RevocationsUnavailable` when the feed is stale and the policy is `fail-closed`. */
  check(): void
  /** Milliseconds since the last contact with the feed; null before the first. */
  lagMs(): number | null
}

/**
 * The feed-unreachable policy. Live sessions are left alone (a revocation
 * that arrives once the feed is back still closes them); only new CONNECTs,
 * whose jti cannot be checked against recent revocations, are affected.
 *
 * @example
 * const guard = createFeedGuard({ follower, maxStaleMs: 60_000 })
 * guard.check() // before accepting a CONNECT
 */
export function createFeedGuard(options: FeedGuardOptions): FeedGuard {
  const now = options.now ?? Date.now
  const maxStaleMs = options.maxStaleMs ?? 60_000
  const policy = options.policy ?? 'fail-closed'
  const log: LogFn = options.log ?? (() => {})
  let stale = false

  function lagMs(): number | null {
    const last = options.follower.state().lastContactAt
    return last === null ? null : Math.max(0, now() - last)
  }

  function check(): void {
    const lag = lagMs()
    const isStale = lag === null || lag > maxStaleMs
    if (isStale !== stale) {
      stale = isStale
      if (isStale) log('error', 'revocation feed unreachable beyond the limit', { code: 'ERR_REVOCATIONS_UNAVAILABLE', lag_ms: lag, policy })
      else log('info', 'revocation feed reachable again', { lag_ms: lag })
    }
    if (isStale && policy === 'fail-closed') {
      throw new RevocationsUnavailable(`revocation feed unreachable for over ${Math.round(maxStaleMs / 1000)} s`)
    }
  }

  return { check, lagMs }
}
