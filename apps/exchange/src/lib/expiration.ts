import { NO_EXPIRATION } from '@mqtt-oidc/core'

/**
 * Lifetime of an exchanged token in seconds: the broker's expiration capped
 * by the configured maximum. Never unlimited (exchange never yields -1).
 */
export function exchangeLifetime(brokerExpiration: number | null, maxLifetime: number): number {
  return brokerExpiration === null ? maxLifetime : Math.min(brokerExpiration, maxLifetime)
}

/**
 * Lifetime of an admin-issued credential in seconds, or null for "no exp".
 * - request -1: no exp, even when the broker has an expiration;
 * - request N: the shorter of N and the broker's expiration;
 * - no request: the broker's expiration, or `fallback` when the broker has
 *   none. A token without `exp` is only ever made on an explicit -1
 *   (a broker token lacks `exp` only for expiration -1).
 */
export function adminLifetime(requested: number | undefined, brokerExpiration: number | null, fallback: number): number | null {
  if (requested === NO_EXPIRATION) return null
  if (requested === undefined) return brokerExpiration ?? fallback
  return brokerExpiration === null ? requested : Math.min(requested, brokerExpiration)
}
