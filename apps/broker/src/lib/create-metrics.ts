import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { REFUSALS, type ErrorCode } from '@mqtt-oidc/core'

/** Live values read at scrape time. */
export interface MetricsSources {
  readonly sessions: () => number
  /** Milliseconds since the last contact with the revocation feed; null before the first. */
  readonly feedLagMs: () => number | null
  readonly feedRevision: () => number
  readonly revokedJtis: () => number
  readonly jwksKeys: () => number
  /** Epoch ms of the last good JWKS fetch; null before the first. */
  readonly jwksLastSuccessAt: () => number | null
}

export interface BrokerMetrics {
  readonly registry: Registry
  /**
   * One CONNECT decision: `code` is the refusal code, undefined when accepted; `connack` the CONNACK return code
   * sent (`none` when the connection was closed without one, `''` where the broker is not ours: EMQX decides it).
   */
  readonly connect: (code: string | undefined, connack?: string) => void
  /** One broker token verified: the refusal code, undefined when valid. */
  readonly verification: (code: string | undefined) => void
  readonly jwksFetch: (outcome: 'ok' | 'error') => void
  /** A new connection refused because its address is held off (too many failed CONNECTs). */
  readonly heldOff: () => void
  /** An address that spent its budget of failed CONNECTs and is held off from now. */
  readonly holdOff: () => void
  /** Prometheus text exposition. */
  readonly render: () => Promise<string>
  readonly contentType: string
}

/**
 * The broker's metrics on their own registry (never the global one: several
 * brokers may share a process), every one labelled with the broker id.
 * `processMetrics` adds prom-client's default process and Node.js metrics.
 * docs/operations.md has the table: names, labels, what to alert on.
 */
export function createMetrics(brokerId: string, sources: MetricsSources, options: { readonly processMetrics?: boolean } = {}): BrokerMetrics {
  const registry = new Registry()
  registry.setDefaultLabels({ broker: brokerId })
  if (options.processMetrics) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const connects = new Counter({
    name: 'mqtt_oidc_broker_connects_total', help: 'MQTT CONNECTs decided, by outcome, refusal reason (code) and the CONNACK return code sent',
    labelNames: ['outcome', 'reason', 'connack'], registers,
  })
  const verifications = new Counter({
    name: 'mqtt_oidc_broker_token_verifications_total', help: 'Broker tokens verified, by result (valid, refused) and refusal code', labelNames: ['result', 'code'], registers,
  })
  const fetches = new Counter({ name: 'mqtt_oidc_broker_jwks_fetches_total', help: 'JWKS fetch attempts, by outcome', labelNames: ['outcome'], registers })
  const heldOff = new Counter({ name: 'mqtt_oidc_broker_connections_held_off_total', help: 'New connections refused unread because their address is held off after too many failed CONNECTs', registers })
  const holdOffs = new Counter({ name: 'mqtt_oidc_broker_hold_offs_total', help: 'Addresses held off for spending their budget of failed CONNECTs', registers })
  const gauge = (name: string, help: string, read: () => number | null): void => {
    // Read when Prometheus scrapes.
    new Gauge({ name, help, registers, collect() { this.set(read() ?? Number.NaN) } })
  }
  gauge('mqtt_oidc_broker_sessions', 'Authenticated MQTT sessions live now', sources.sessions)
  gauge('mqtt_oidc_broker_revocation_feed_lag_seconds', 'Seconds since the last contact with the revocation feed (NaN before the first)', () => {
    const lag = sources.feedLagMs()
    return lag === null ? null : lag / 1000
  })
  gauge('mqtt_oidc_broker_revocation_feed_revision', 'Last revocation feed revision applied', sources.feedRevision)
  gauge('mqtt_oidc_broker_revoked_jtis', 'Revoked jtis held', sources.revokedJtis)
  gauge('mqtt_oidc_broker_jwks_keys', 'Verification keys held from the last good JWKS', sources.jwksKeys)
  gauge('mqtt_oidc_broker_jwks_age_seconds', 'Seconds since the last good JWKS fetch (NaN before the first)', () => {
    const at = sources.jwksLastSuccessAt()
    return at === null ? null : (Date.now() - at) / 1000
  })
  for (const outcome of ['ok', 'error']) fetches.inc({ outcome }, 0)
  verifications.inc({ result: 'valid', code: '' }, 0)

  return {
    registry,
    connect: (code, connack) => connects.inc(code === undefined
      ? { outcome: 'accepted', reason: '', connack: connack ?? '0' }
      : { outcome: 'refused', reason: code, connack: connack ?? String(REFUSALS[code as ErrorCode]?.connack ?? '') }),
    verification: (code) => verifications.inc({ result: code === undefined ? 'valid' : 'refused', code: code ?? '' }),
    jwksFetch: (outcome) => fetches.inc({ outcome }),
    heldOff: () => heldOff.inc(),
    holdOff: () => holdOffs.inc(),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  }
}
