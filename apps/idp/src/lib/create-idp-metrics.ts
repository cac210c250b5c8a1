import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { STORE_SECONDS_BUCKETS, type StoreCall } from '@mqtt-oidc/store'
import type { LoginLimiter } from './login-rate-limit.js'
import type { UserCodeLimiter } from './user-code-rate-limit.js'

/** The IdP's Prometheus metrics (docs/operations.md has the table: names, labels, what to alert on). */
export interface IdpMetrics {
  readonly registry: Registry
  /** A token endpoint grant that issued tokens. */
  readonly tokenIssued: (grantType: string) => void
  /** An OAuth refusal oidc-provider reported (its `error` code). */
  readonly oauthRefusal: (error: string) => void
  /** A look at the store's signing keys that failed (the IdP keeps signing with what it has). */
  readonly keyReloadFailed: () => void
  /** One store call (observeStore). */
  readonly storeCall: (call: StoreCall) => void
  /** The login limiter, counting sign-ins (ok, failed) and refusals for too many failures. */
  readonly observeLogins: (limiter: LoginLimiter) => LoginLimiter
  /** The user-code limiter, counting wrong codes and refusals for too many. */
  readonly observeUserCodes: (limiter: UserCodeLimiter) => UserCodeLimiter
  readonly render: () => Promise<{ contentType: string; body: string }>
}

/**
 * The IdP's metrics on a registry of its own (never prom-client's global
 * one: the embedded stack runs every app in one process). `processMetrics`
 * adds prom-client's default process and Node.js metrics.
 */
export function createIdpMetrics(options: { readonly processMetrics?: boolean } = {}): IdpMetrics {
  const registry = new Registry()
  if (options.processMetrics) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const logins = new Counter({
    name: 'mqtt_oidc_idp_logins_total',
    help: 'Password sign-ins checked, by outcome (ok, failed: wrong username or password, or a disabled account)',
    labelNames: ['outcome'],
    registers,
  })
  const limited = new Counter({
    name: 'mqtt_oidc_idp_rate_limited_total',
    help: 'Requests refused by a rate limit before any check, by limit (login, user_code)',
    labelNames: ['limit'],
    registers,
  })
  const wrongCodes = new Counter({
    name: 'mqtt_oidc_idp_wrong_user_codes_total',
    help: 'Device-flow user codes entered that match no pending device',
    registers,
  })
  const issued = new Counter({
    name: 'mqtt_oidc_idp_tokens_issued_total',
    help: 'Token endpoint grants that issued tokens, by grant_type',
    labelNames: ['grant_type'],
    registers,
  })
  const refusals = new Counter({
    name: 'mqtt_oidc_idp_oauth_refusals_total',
    help: 'OAuth refusals (authorization, token, device, introspection, revocation, userinfo, logout), by OAuth error code',
    labelNames: ['error'],
    registers,
  })
  const keyFailures = new Counter({ name: 'mqtt_oidc_idp_key_reload_failures_total', help: 'Looks at the signing keys in the store that failed', registers })
  const store = new Histogram({
    name: 'mqtt_oidc_idp_store_seconds',
    help: 'Store calls, by operation and outcome (ok; refused: not found, conflict; error: the store failed), seconds',
    labelNames: ['operation', 'outcome'],
    buckets: [...STORE_SECONDS_BUCKETS],
    registers,
  })
  for (const outcome of ['ok', 'failed']) logins.inc({ outcome }, 0)
  for (const limit of ['login', 'user_code']) limited.inc({ limit }, 0)

  return {
    registry,
    tokenIssued: (grantType) => issued.inc({ grant_type: grantType }),
    oauthRefusal: (error) => refusals.inc({ error }),
    keyReloadFailed: () => keyFailures.inc(),
    storeCall: (call) => store.observe({ operation: call.operation, outcome: call.outcome }, call.seconds),
    observeLogins: (limiter) => ({
      retryAfter(attempt) {
        const wait = limiter.retryAfter(attempt)
        if (wait > 0) limited.inc({ limit: 'login' })
        return wait
      },
      failed(attempt) {
        logins.inc({ outcome: 'failed' })
        limiter.failed(attempt)
      },
      succeeded(attempt) {
        logins.inc({ outcome: 'ok' })
        limiter.succeeded(attempt)
      },
    }),
    observeUserCodes: (limiter) => ({
      retryAfter(ip) {
        const wait = limiter.retryAfter(ip)
        if (wait > 0) limited.inc({ limit: 'user_code' })
        return wait
      },
      fail(ip) {
        wrongCodes.inc()
        limiter.fail(ip)
      },
    }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  }
}
