import { createHash } from 'node:crypto'
import type { KoaContextWithOIDC, Provider } from 'oidc-provider'
import { isRecord } from '@mqtt-oidc/core'

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** RFC 8628 §3.5: after `slow_down` the client adds 5 s to its interval. */
const SLOW_DOWN_STEP = 5
// oidc-provider's own wording for this error (errors.SlowDown).
const SLOW_DOWN_DESCRIPTION = 'you are polling too quickly and should back off at a reasonable rate'
// Timer jitter: a client that waits exactly `interval` must never be told to slow down.
const TOLERANCE_MS = 250
const ENTRY_LIFETIME_MS = 30 * 60 * 1000
const SWEEP_ABOVE = 1000
const MAX_ENTRIES = 10_000

interface Poll {
  last: number
  interval: number
  expiresAt: number
}

/**
 * Device-flow polling policy, added around oidc-provider's routes:
 * - the device authorization response gets `interval` (oidc-provider omits it);
 * - a device code polled sooner than its interval gets `slow_down` instead of
 *   `authorization_pending` (RFC 8628 §3.5), and its interval grows by 5 s.
 * Only pending answers are rewritten, so the policy never changes an outcome.
 * The pacing state is per process: behind a load balancer each instance
 * paces the polls it sees.
 */
export function useDevicePolling(provider: Provider, intervalSeconds: number): void {
  const polls = new Map<string, Poll>()

  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next()
    const route = (ctx as { oidc?: KoaContextWithOIDC['oidc'] }).oidc?.route
    if (route === 'device_authorization' && ctx.status === 200 && isBody(ctx.body)) {
      ctx.body = { ...ctx.body, interval: intervalSeconds }
    } else if (route === 'token' && ctx.oidc.params?.grant_type === DEVICE_CODE_GRANT) {
      const deviceCode = ctx.oidc.params.device_code
      if (typeof deviceCode !== 'string') return
      const key = createHash('sha256').update(deviceCode).digest('base64url')
      const pending = ctx.status === 400 && isBody(ctx.body) && ctx.body.error === 'authorization_pending'
      if (!pending) {
        polls.delete(key)
        return
      }
      const now = Date.now()
      const poll = polls.get(key)
      if (poll && now - poll.last < poll.interval * 1000 - TOLERANCE_MS) {
        poll.interval += SLOW_DOWN_STEP
        ctx.body = { error: 'slow_down', error_description: SLOW_DOWN_DESCRIPTION }
      }
      polls.set(key, { last: now, interval: poll?.interval ?? intervalSeconds, expiresAt: now + ENTRY_LIFETIME_MS })
      if (polls.size > SWEEP_ABOVE) sweep(polls, now)
    }
  })
}

function sweep(polls: Map<string, Poll>, now: number): void {
  for (const [key, poll] of polls) if (poll.expiresAt < now) polls.delete(key)
  // Map iteration is insertion order: drop the oldest when still over the cap.
  for (const key of polls.keys()) {
    if (polls.size <= MAX_ENTRIES) break
    polls.delete(key)
  }
}

/** A JSON object oidc-provider is about to send (a Buffer body is already serialized). */
function isBody(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && !Buffer.isBuffer(value)
}
