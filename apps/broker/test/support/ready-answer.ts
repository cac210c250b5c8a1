import { expect } from 'vitest'

/**
 * GET /readyz of a broker that is ready, on the aedes broker's metrics port
 * and on the EMQX hook's port alike (one set of checks for both): listening,
 * one key held, the revocation feed heard from within its 60 s limit.
 */
export const READY_ANSWER = Object.freeze({
  status: 'ready',
  checks: {
    listening: { ok: true },
    keys: { ok: true, keys: 1, age_seconds: expect.any(Number) as unknown },
    revocation_feed: { ok: true, lag_seconds: expect.any(Number) as unknown, limit_seconds: 60 },
  },
})
