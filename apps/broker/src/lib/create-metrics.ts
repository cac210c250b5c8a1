import { Counter, Gauge, Registry } from 'prom-client'

/** Live values read at scrape time. */
export interface MetricsSources {
  sessions(): number
  /** Milliseconds since the last contact with the revocation feed; null before the first. */
  feedLagMs(): number | null
  feedRevision(): number
  revokedJtis(): number
  jwksKeys(): number
}

export interface BrokerMetrics {
  readonly registry: Registry
  /** One CONNECT decision: `code` is the refusal code, undefined when accepted. */
  connect(code: string | undefined): void
  jwksFetch(outcome: 'ok' | 'error'): void
  /** Prometheus text exposition. */
  render(): Promise<string>
  readonly contentType: string
}

/** The broker's metrics on their own registry (never the global one: several brokers may share a process). */
export function createMetrics(brokerId: string, sources: MetricsSources): BrokerMetrics {
  const registry = new Registry()
  registry.setDefaultLabels({ broker: brokerId })
  const connects = new Counter({
    name: 'mqtt_oidc_broker_connects_total', help: 'MQTT CONNECTs decided, by outcome and refusal reason (code)',
    labelNames: ['outcome', 'reason'], registers: [registry],
  })
  const fetches = new Counter({
    name: 'mqtt_oidc_broker_jwks_fetches_total', help: 'JWKS fetch attempts, by outcome', labelNames: ['outcome'], registers: [registry],
  })
  const gauge = (name: string, help: string, read: () => number | null): void => {
    // eslint-disable-next-line no-new
    new Gauge({
      name, help, registers: [registry],
      collect() {
        const v = read()
        this.set(v ?? Number.NaN)
      },
    })
  }
  gauge('mqtt_oidc_broker_sessions', 'Authenticated MQTT sessions live now', sources.sessions)
  gauge('mqtt_oidc_broker_revocation_feed_lag_seconds', 'Seconds since the last contact with the revocation feed (NaN before the first)', () => {
    const lag = sources.feedLagMs()
    return lag === null ? null : lag / 1000
  })
  gauge('mqtt_oidc_broker_revocation_feed_revision', 'Last revocation feed revision applied', sources.feedRevision)
  gauge('mqtt_oidc_broker_revoked_jtis', 'Revoked jtis held', sources.revokedJtis)
  gauge('mqtt_oidc_broker_jwks_keys', 'Verification keys held from the last good JWKS', sources.jwksKeys)
  for (const outcome of ['ok', 'error']) fetches.inc({ outcome }, 0)
  connects.inc({ outcome: 'accepted', reason: '' }, 0)

  return {
    registry,
    connect: (code) => connects.inc(code === undefined ? { outcome: 'accepted', reason: '' } : { outcome: 'refused', reason: code }),
    jwksFetch: (outcome) => fetches.inc({ outcome }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  }
}
