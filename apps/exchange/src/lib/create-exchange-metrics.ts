import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { STORE_SECONDS_BUCKETS, type StoreCall } from '@mqtt-oidc/store'

/** Which limit refused a request. */
export type ExchangeLimit = 'subject' | 'broker_policy' | 'admin_issue' | 'admin_live_credentials'

/** Live values read at scrape time. */
export interface ExchangeMetricsSources {
  /** Revocation streams open on this instance. */
  readonly feedStreams: () => number
  /** Each trusted issuer's JWKS: epoch ms of its last good fetch (null before the first). */
  readonly issuerJwks: () => ReadonlyArray<{ readonly issuer: string; readonly lastSuccessAt: number | null }>
}

/** The exchange's Prometheus metrics (docs/operations.md has the table: names, labels, what to alert on). */
export interface ExchangeMetrics {
  readonly registry: Registry
  /** One POST /token answered: `code` is the refusal code (ERR_SERVER for a failure), undefined when a token was issued. */
  readonly exchange: (code: string | undefined) => void
  /** One subject or admin token checked: `code` is the refusal code, undefined when valid. */
  readonly verification: (token: 'subject' | 'admin', code: string | undefined) => void
  /** A request a limit refused. */
  readonly rateLimited: (limit: ExchangeLimit) => void
  /** Credentials recorded, by how they were issued. */
  readonly issued: (source: 'exchange' | 'admin', count: number) => void
  /** jtis whose state an admin changed (or a broker deletion revoked). */
  readonly revocations: (action: 'revoke' | 'unrevoke', count: number) => void
  readonly storeCall: (call: StoreCall) => void
  readonly render: () => Promise<{ contentType: string; body: string }>
}

/**
 * The exchange's metrics on a registry of its own (never prom-client's
 * global one: the embedded stack runs every app in one process).
 * `processMetrics` adds prom-client's default process and Node.js metrics.
 */
export function createExchangeMetrics(sources: ExchangeMetricsSources, options: { readonly processMetrics?: boolean } = {}): ExchangeMetrics {
  const registry = new Registry()
  if (options.processMetrics) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const exchanges = new Counter({
    name: 'mqtt_oidc_exchange_token_exchanges_total',
    help: 'POST /token answers, by outcome (issued, refused, failed) and refusal code',
    labelNames: ['outcome', 'code'],
    registers,
  })
  const verifications = new Counter({
    name: 'mqtt_oidc_exchange_token_verifications_total',
    help: 'Subject tokens (POST /token) and admin access tokens checked, by token, result (valid, refused) and refusal code',
    labelNames: ['token', 'result', 'code'],
    registers,
  })
  const limited = new Counter({
    name: 'mqtt_oidc_exchange_rate_limited_total',
    help: 'Requests refused by a limit, by limit',
    labelNames: ['limit'],
    registers,
  })
  const issued = new Counter({
    name: 'mqtt_oidc_exchange_credentials_issued_total',
    help: 'Broker tokens issued, by source (exchange, admin)',
    labelNames: ['source'],
    registers,
  })
  const revocations = new Counter({
    name: 'mqtt_oidc_exchange_revocations_total',
    help: 'jtis revoked or unrevoked through this instance, by action',
    labelNames: ['action'],
    registers,
  })
  const store = new Histogram({
    name: 'mqtt_oidc_exchange_store_seconds',
    help: 'Store calls, by operation and outcome (ok; refused: not found, conflict; error: the store failed), seconds',
    labelNames: ['operation', 'outcome'],
    buckets: [...STORE_SECONDS_BUCKETS],
    registers,
  })
  // Read when Prometheus scrapes.
  new Gauge({
    name: 'mqtt_oidc_exchange_feed_streams',
    help: 'Revocation streams (SSE) open on this instance',
    registers,
    collect() {
      this.set(sources.feedStreams())
    },
  })
  new Gauge({
    name: 'mqtt_oidc_exchange_issuer_jwks_age_seconds',
    help: "Seconds since the last good fetch of each trusted issuer's JWKS (NaN before the first)",
    labelNames: ['issuer'],
    registers,
    collect() {
      for (const { issuer, lastSuccessAt } of sources.issuerJwks())
        this.set({ issuer }, lastSuccessAt === null ? Number.NaN : (Date.now() - lastSuccessAt) / 1000)
    },
  })
  exchanges.inc({ outcome: 'issued', code: '' }, 0)
  for (const limit of ['subject', 'broker_policy', 'admin_issue', 'admin_live_credentials']) limited.inc({ limit }, 0)
  for (const source of ['exchange', 'admin']) issued.inc({ source }, 0)

  return {
    registry,
    exchange: (code) => exchanges.inc(code === undefined ? { outcome: 'issued', code: '' } : { outcome: code === 'ERR_SERVER' ? 'failed' : 'refused', code }),
    verification: (token, code) => verifications.inc({ token, result: code === undefined ? 'valid' : 'refused', code: code ?? '' }),
    rateLimited: (limit) => limited.inc({ limit }),
    issued: (source, count) => issued.inc({ source }, count),
    revocations: (action, count) => revocations.inc({ action }, count),
    storeCall: (call) => store.observe({ operation: call.operation, outcome: call.outcome }, call.seconds),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  }
}
