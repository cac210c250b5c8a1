import { loadBrokerConfig } from '@mqtt-oidc/broker'
import { loadConfig as loadExchangeConfig } from '@mqtt-oidc/exchange'
import { DEFAULT_TTL, KEY_RELOAD_SECONDS, loadConfig as loadIdpConfig } from '@mqtt-oidc/idp'

/** A timer or timeout of the running system, at its default setting. */
export interface SystemTimeout {
  readonly name: string
  readonly seconds: number
  /** Where the default lives. */
  readonly source: string
  /**
   * Whether it runs down while the system is idle (no revocation, no fault,
   * only renewals and readings): those are what the quiet spells must outlast.
   * The others are listed for completeness, with why a quiet spell cannot reach them.
   */
  readonly idle: boolean
  readonly note?: string
}

/**
 * Every timeout of the stack at its defaults: read from each app's config.ts
 * (its schema's defaults, by loading it with an empty environment), and the
 * constants that have no setting, named with the file they live in.
 */
export function systemTimeouts(): SystemTimeout[] {
  const broker = loadBrokerConfig({})
  const exchange = loadExchangeConfig({})
  const idp = loadIdpConfig({})
  return [
    {
      name: 'broker: revocation feed staleness limit (then CONNACK 3)',
      seconds: broker.feedMaxStaleMs / 1000,
      source: 'apps/broker/src/config.ts MQTT_OIDC_BROKER_FEED_MAX_STALE_SECONDS',
      idle: true,
    },
    {
      name: 'broker: JWKS refresh timer',
      seconds: broker.jwksRefreshIntervalMs / 1000,
      source: 'apps/broker/src/config.ts MQTT_OIDC_BROKER_JWKS_REFRESH_SECONDS',
      idle: true,
    },
    {
      name: 'broker: JWKS refetch cooldown (unknown kid)',
      seconds: broker.jwksCooldownMs / 1000,
      source: 'apps/broker/src/config.ts MQTT_OIDC_BROKER_JWKS_COOLDOWN_SECONDS',
      idle: true,
    },
    { name: 'broker: revocation stream idle timeout', seconds: 45, source: 'packages/broker-auth/src/create-revocation-follower.ts idleTimeoutMs', idle: true },
    { name: 'broker: revocation set prune timer', seconds: 60, source: 'packages/broker-auth/src/create-revocation-follower.ts pruneTimer', idle: true },
    { name: 'exchange: revocation stream keepalive', seconds: 15, source: 'apps/exchange/src/create-exchange.ts keepaliveMs', idle: true },
    { name: 'exchange: signing keys reload / JWKS recompute', seconds: 60, source: 'apps/exchange/src/lib/signing-keys.ts RELOAD_SECONDS', idle: true },
    { name: 'exchange: IdP JWKS refetch cooldown (unknown kid)', seconds: 30, source: 'apps/exchange/src/lib/issuer-keys.ts cooldownMs', idle: true },
    { name: 'idp: signing keys reload', seconds: KEY_RELOAD_SECONDS, source: 'apps/idp/src/create-idp.ts KEY_RELOAD_SECONDS', idle: true },
    {
      name: 'mqtt.js: keepalive (PINGREQ when nothing else was sent)',
      seconds: 60,
      source: 'mqtt.js default keepalive',
      idle: true,
      note: 'aedes closes a client silent for 1.5x',
    },
    { name: 'pg: idle pool client closed', seconds: 10, source: 'pg Pool idleTimeoutMillis default', idle: true, note: 'PostgreSQL run only' },
    { name: 'node http server: keep-alive timeout', seconds: 5, source: 'node:http server.keepAliveTimeout default', idle: true },
    { name: 'undici (fetch): keep-alive timeout', seconds: 4, source: 'undici Agent keepAliveTimeout default', idle: true },
    {
      name: 'broker: last good JWKS kept while the endpoint fails',
      seconds: broker.jwksMaxStaleMs / 1000,
      source: 'apps/broker/src/config.ts MQTT_OIDC_BROKER_JWKS_MAX_STALE_SECONDS',
      idle: false,
      note: 'counts from the last good fetch, which the refresh timer renews',
    },
    {
      name: 'undici (fetch): body / headers timeout',
      seconds: 300,
      source: 'undici Agent bodyTimeout, headersTimeout defaults',
      idle: false,
      note: 'reset by every keepalive on the revocation stream',
    },
    {
      name: 'node http server: request timeout',
      seconds: 300,
      source: 'node:http server.requestTimeout default',
      idle: false,
      note: 'bounds receiving a request, not an open response',
    },
    {
      name: 'idp: expired records prune',
      seconds: 900,
      source: 'apps/idp/src/create-idp.ts PRUNE_EVERY_MS',
      idle: false,
      note: 'a periodic job, not a timeout; runs in soaks of 15 min or more',
    },
    {
      name: 'idp: device code lifetime',
      seconds: DEFAULT_TTL.deviceCode,
      source: 'apps/idp/src/lib/provider-configuration.ts DEFAULT_TTL',
      idle: false,
      note: 'login only',
    },
    {
      name: 'idp: admin access token lifetime',
      seconds: DEFAULT_TTL.adminAccessToken,
      source: 'apps/idp/src/lib/provider-configuration.ts DEFAULT_TTL',
      idle: false,
      note: 'the admin client renews it',
    },
    {
      name: 'idp: ID token lifetime',
      seconds: idp.idTokenTtl,
      source: 'apps/idp/src/config.ts MQTT_OIDC_IDP_ID_TOKEN_TTL',
      idle: false,
      note: 'a token lifetime; the soak shortens it so that refreshes happen',
    },
    {
      name: 'exchange: broker token lifetime cap',
      seconds: exchange.maxLifetime,
      source: 'apps/exchange/src/config.ts MQTT_OIDC_EXCHANGE_MAX_LIFETIME',
      idle: false,
      note: "a token lifetime; the soak's broker sets a shorter one",
    },
  ]
}

/** The longest timeout that runs down while the system idles, seconds. */
export function longestIdleTimeout(timeouts: readonly SystemTimeout[]): number {
  return Math.max(...timeouts.filter((t) => t.idle).map((t) => t.seconds))
}
