import { join, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError, brokerIdSchema, envSchemas, readEnvironment, stackPorts, stackUrls } from '@mqtt-oidc/core'

/** Env vars of this app start with this prefix; an unknown one is an error. */
export const ENV_PREFIX = 'MQTT_OIDC_BROKER_'

const { flag, logLevel, oneOf, wholeNumber } = envSchemas
const port = envSchemas.port()
/** MQTT's largest remaining length is 268,435,455 bytes (§2.2.3). */
const packetBytes = wholeNumber(256, 268_435_455)
const seconds = (max: number) => wholeNumber(1, max)
const httpUrl = envSchemas.httpUrl().transform((u) => u.replace(/\/+$/, ''))

/** Every `MQTT_OIDC_BROKER_*` variable (and the shared data directory), with its unit and default. */
const schema = z.object({
  /** Data directory (shared by all apps): where the feed credential file is by default. Default ./.data. */
  MQTT_OIDC_DATA_DIR: z.string().min(1).default('./.data'),
  /** Broker id, the `aud` of its tokens. Default `demo`. */
  MQTT_OIDC_BROKER_ID: brokerIdSchema.default('demo'),
  /** Moves the whole embedded stack: the IdP on this port, the exchange on the next, then the broker's MQTT, WebSocket, TLS and EMQX hook ports (stack-ports.ts in core). Default: none. */
  MQTT_OIDC_PORT_BASE: envSchemas.portBase().optional(),
  /** Exchange base URL (JWKS + revocation feed). Default `http://localhost:4001` (with MQTT_OIDC_PORT_BASE: base + 1). */
  MQTT_OIDC_BROKER_EXCHANGE_URL: httpUrl.optional(),
  /** Expected token issuer. Default: the exchange URL. */
  MQTT_OIDC_BROKER_ISSUER: z.string().min(1).optional(),
  /** JWKS URL. Default: `{exchange}/.well-known/jwks.json`. */
  MQTT_OIDC_BROKER_JWKS_URL: httpUrl.optional(),
  /** Interface to listen on. Default `127.0.0.1` (loopback only). */
  MQTT_OIDC_BROKER_HOST: z.string().min(1).default('127.0.0.1'),
  /** MQTT over TCP port. Default 1883 (with MQTT_OIDC_PORT_BASE: base + 2). */
  MQTT_OIDC_BROKER_MQTT_PORT: port.optional(),
  /** MQTT over WebSocket port (path /mqtt). Default 8083 (with MQTT_OIDC_PORT_BASE: base + 3). */
  MQTT_OIDC_BROKER_WS_PORT: port.optional(),
  /** Token exp/nbf leeway, in seconds. Default 5. */
  MQTT_OIDC_BROKER_CLOCK_TOLERANCE: wholeNumber(0, 300).default(5),
  /** JWKS refresh interval, in seconds (a conditional GET: an unchanged JWKS costs a 304). Default 60. */
  MQTT_OIDC_BROKER_JWKS_REFRESH_SECONDS: seconds(86_400).default(60),
  /** Minimum time between JWKS fetches caused by unknown kids, in seconds. Default 30. */
  MQTT_OIDC_BROKER_JWKS_COOLDOWN_SECONDS: wholeNumber(0, 3600).default(30),
  /** How long the last good JWKS keeps verifying while the endpoint fails, in seconds. Default 3600. */
  MQTT_OIDC_BROKER_JWKS_MAX_STALE_SECONDS: seconds(604_800).default(3600),
  /** How long the revocation feed may be out of reach before the feed policy applies, in seconds. Default 60. */
  MQTT_OIDC_BROKER_FEED_MAX_STALE_SECONDS: seconds(86_400).default(60),
  /** New CONNECTs once the feed is out of reach too long: `fail-closed` (CONNACK 3) or `fail-open`. Default `fail-closed`. */
  MQTT_OIDC_BROKER_FEED_POLICY: oneOf(['fail-closed', 'fail-open'], 'must be fail-closed or fail-open').default('fail-closed'),
  /**
   * File holding this broker's revocation-feed credential (mode 0600; the exchange writes it for the brokers
   * it bootstraps, `mqtt-oidc broker feed-credential <id>` makes one). Read before each feed request, so a
   * rotated credential needs no restart. Default `<MQTT_OIDC_DATA_DIR>/feed-credentials/<broker id>`.
   */
  MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE: z.string().min(1).optional(),
  /** Largest CONNECT read before authentication, in bytes (a broker token is at most 8 KiB). Default 65536. */
  MQTT_OIDC_BROKER_MAX_CONNECT_BYTES: packetBytes.default(65_536),
  /** Largest packet after authentication, in bytes; larger ones close the connection. Default 1048576 (1 MiB). */
  MQTT_OIDC_BROKER_MAX_PACKET_BYTES: packetBytes.default(1_048_576),
  /** A connection must have sent its whole CONNECT within this, in seconds. Default 10. */
  MQTT_OIDC_BROKER_CONNECT_TIMEOUT_SECONDS: seconds(300).default(10),
  /**
   * Failed CONNECTs (refused tokens, protocol violations, CONNECTs too large or too late) one address may
   * have per window before its new connections are held off; 0 turns this off (do so, or raise it, when
   * many clients share an address behind a NAT or proxy). Default 30.
   */
  MQTT_OIDC_BROKER_CONNECT_FAILURE_BUDGET: wholeNumber(0, 1_000_000).default(30),
  /** The window of that budget, in seconds. Default 60. */
  MQTT_OIDC_BROKER_CONNECT_FAILURE_WINDOW_SECONDS: seconds(86_400).default(60),
  /** First hold-off of an address over its budget, in seconds; doubles each time it happens again. Default 10. */
  MQTT_OIDC_BROKER_CONNECT_HOLD_SECONDS: seconds(86_400).default(10),
  /** Longest hold-off, in seconds. Default 300. */
  MQTT_OIDC_BROKER_CONNECT_HOLD_MAX_SECONDS: seconds(86_400).default(300),
  /** Verified tokens remembered so a reconnecting client skips the signature check, entries (~0.5 KB each). Default 1000. */
  MQTT_OIDC_BROKER_VERIFIED_CACHE_SIZE: wholeNumber(0, 1_000_000).default(1000),
  /**
   * Port of the metrics and health listener: `GET /metrics` (Prometheus), `/healthz` (alive) and `/readyz` (keys held,
   * revocation feed heard from within the staleness limit). Default: none.
   */
  MQTT_OIDC_BROKER_METRICS_PORT: port.optional(),
  /** MQTT over TLS: PEM certificate chain file. Needs MQTT_OIDC_BROKER_TLS_KEY. Default: no TLS listener. */
  MQTT_OIDC_BROKER_TLS_CERT: z.string().min(1).optional(),
  /** MQTT over TLS: PEM private key file. Needs MQTT_OIDC_BROKER_TLS_CERT. */
  MQTT_OIDC_BROKER_TLS_KEY: z.string().min(1).optional(),
  /** MQTT over TLS port. Default 8883 (with MQTT_OIDC_PORT_BASE: base + 4). */
  MQTT_OIDC_BROKER_TLS_PORT: port.optional(),
  /** Port of the EMQX HTTP auth/authz hook (`pnpm --filter @mqtt-oidc/broker start:emqx-hook`), which also serves /metrics, /healthz and /readyz. Default 8991 (with MQTT_OIDC_PORT_BASE: base + 5). */
  MQTT_OIDC_BROKER_EMQX_HOOK_PORT: port.optional(),
  /** EMQX REST API base URL (e.g. `http://emqx:18083`): the hook kicks revoked sessions through it. Default: none. */
  MQTT_OIDC_BROKER_EMQX_API_URL: httpUrl.optional(),
  /** EMQX API key (with MQTT_OIDC_BROKER_EMQX_API_URL). */
  MQTT_OIDC_BROKER_EMQX_API_KEY: z.string().min(1).optional(),
  /** EMQX API secret (with MQTT_OIDC_BROKER_EMQX_API_URL). */
  MQTT_OIDC_BROKER_EMQX_API_SECRET: z.string().min(1).optional(),
  /** `redis://host:port[/db]`: nodes of this broker share subscriptions and sessions through Redis. Default: none (one node). */
  MQTT_OIDC_BROKER_REDIS_URL: z.string().refine((v) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol), 'must be a redis:// URL').optional(),
  /**
   * Report this node's live sessions (client id, username, jti, connected since, token expiry, address) to the
   * exchange with the feed credential, for the console: `true` or `false`. Default true.
   */
  MQTT_OIDC_BROKER_REPORT_SESSIONS: flag().default(true),
  /** This node's id in session reports (1-128 printable ASCII), unique among the broker's nodes. Default `<hostname>-<6 random hex>`. */
  MQTT_OIDC_BROKER_NODE_ID: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters').optional(),
  /** pino level. Default `info`. */
  MQTT_OIDC_BROKER_LOG_LEVEL: logLevel().default('info'),
})

export interface BrokerConfig {
  readonly brokerId: string
  readonly exchangeUrl: string
  readonly issuer: string
  readonly jwksUri: string | undefined
  readonly host: string
  readonly mqttPort: number
  readonly wsPort: number
  readonly clockTolerance: number
  readonly jwksRefreshIntervalMs: number
  readonly jwksCooldownMs: number
  readonly jwksMaxStaleMs: number
  readonly feedMaxStaleMs: number
  readonly feedPolicy: 'fail-closed' | 'fail-open'
  /** Absolute path of the feed credential file. */
  readonly feedCredentialFile: string
  /** Bytes. */
  readonly maxConnectBytes: number
  /** Bytes. */
  readonly maxPacketBytes: number
  readonly connectTimeoutMs: number
  /** The per-address budget of failed CONNECTs (maxFailures 0 = off). */
  readonly connectFailures: { readonly maxFailures: number; readonly windowMs: number; readonly holdMs: number; readonly maxHoldMs: number }
  /** Entries. */
  readonly verifiedCacheSize: number
  readonly metricsPort: number | undefined
  readonly tls: { readonly certPath: string; readonly keyPath: string; readonly port: number } | undefined
  readonly emqxHookPort: number
  readonly emqxApi: { readonly url: string; readonly apiKey: string; readonly apiSecret: string } | undefined
  /** Redis shared by the nodes of this broker; undefined = one node, in memory. */
  readonly redisUrl: string | undefined
  /** Report live sessions to the exchange. */
  readonly reportSessions: boolean
  /** undefined = `<hostname>-<random>`. */
  readonly nodeId: string | undefined
  readonly logLevel: string
  /** Development-only settings in use (say so once, at start). */
  readonly warnings: readonly string[]
}

/**
 * Reads the broker's configuration from `MQTT_OIDC_BROKER_*` variables
 * (and `MQTT_OIDC_DATA_DIR`, shared by the apps, default `./.data`); an
 * unknown variable with that prefix is an error, an empty one is unset.
 * Plain-HTTP exchange URLs are refused when `NODE_ENV=production`. Throws
 * `ConfigError` listing every problem at once, naming `app` (the broker or
 * the EMQX hook, which reads the same variables).
 */
export function loadBrokerConfig(env: NodeJS.ProcessEnv = process.env, app: 'broker' | 'emqx-hook' = 'broker'): BrokerConfig {
  const { data: c, problems } = readEnvironment(schema, ENV_PREFIX, env)
  if (c === undefined) throw new ConfigError(app, problems)
  const ports = stackPorts(c.MQTT_OIDC_PORT_BASE)
  const exchangeUrl = c.MQTT_OIDC_BROKER_EXCHANGE_URL ?? stackUrls(ports).exchange
  const api = [c.MQTT_OIDC_BROKER_EMQX_API_URL, c.MQTT_OIDC_BROKER_EMQX_API_KEY, c.MQTT_OIDC_BROKER_EMQX_API_SECRET]
  if (api.some((v) => v !== undefined) && !api.every((v) => v !== undefined)) {
    throw new ConfigError(app, ['MQTT_OIDC_BROKER_EMQX_API_URL, _KEY and _SECRET go together: set all three or none'])
  }
  if ((c.MQTT_OIDC_BROKER_TLS_CERT === undefined) !== (c.MQTT_OIDC_BROKER_TLS_KEY === undefined)) {
    throw new ConfigError(app, ['MQTT_OIDC_BROKER_TLS_CERT and MQTT_OIDC_BROKER_TLS_KEY go together: set both or neither'])
  }
  const plainHttp = [exchangeUrl, c.MQTT_OIDC_BROKER_JWKS_URL]
    .filter((u): u is string => u !== undefined && u.startsWith('http:'))
  const warnings = plainHttp.length > 0
    ? [`plain HTTP for keys and revocations (${plainHttp.join(', ')}): development only`]
    : []
  if (plainHttp.length > 0 && env.NODE_ENV === 'production') {
    throw new ConfigError(app, [`NODE_ENV=production refuses plain HTTP URLs: ${plainHttp.join(', ')}`])
  }
  return {
    brokerId: c.MQTT_OIDC_BROKER_ID,
    exchangeUrl,
    issuer: c.MQTT_OIDC_BROKER_ISSUER ?? exchangeUrl,
    jwksUri: c.MQTT_OIDC_BROKER_JWKS_URL,
    host: c.MQTT_OIDC_BROKER_HOST,
    mqttPort: c.MQTT_OIDC_BROKER_MQTT_PORT ?? ports.mqtt,
    wsPort: c.MQTT_OIDC_BROKER_WS_PORT ?? ports.ws,
    clockTolerance: c.MQTT_OIDC_BROKER_CLOCK_TOLERANCE,
    jwksRefreshIntervalMs: c.MQTT_OIDC_BROKER_JWKS_REFRESH_SECONDS * 1000,
    jwksCooldownMs: c.MQTT_OIDC_BROKER_JWKS_COOLDOWN_SECONDS * 1000,
    jwksMaxStaleMs: c.MQTT_OIDC_BROKER_JWKS_MAX_STALE_SECONDS * 1000,
    feedMaxStaleMs: c.MQTT_OIDC_BROKER_FEED_MAX_STALE_SECONDS * 1000,
    feedPolicy: c.MQTT_OIDC_BROKER_FEED_POLICY,
    feedCredentialFile: resolve(c.MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE ?? join(c.MQTT_OIDC_DATA_DIR, 'feed-credentials', c.MQTT_OIDC_BROKER_ID)),
    maxConnectBytes: c.MQTT_OIDC_BROKER_MAX_CONNECT_BYTES,
    maxPacketBytes: c.MQTT_OIDC_BROKER_MAX_PACKET_BYTES,
    connectTimeoutMs: c.MQTT_OIDC_BROKER_CONNECT_TIMEOUT_SECONDS * 1000,
    connectFailures: {
      maxFailures: c.MQTT_OIDC_BROKER_CONNECT_FAILURE_BUDGET,
      windowMs: c.MQTT_OIDC_BROKER_CONNECT_FAILURE_WINDOW_SECONDS * 1000,
      holdMs: c.MQTT_OIDC_BROKER_CONNECT_HOLD_SECONDS * 1000,
      maxHoldMs: c.MQTT_OIDC_BROKER_CONNECT_HOLD_MAX_SECONDS * 1000,
    },
    verifiedCacheSize: c.MQTT_OIDC_BROKER_VERIFIED_CACHE_SIZE,
    metricsPort: c.MQTT_OIDC_BROKER_METRICS_PORT,
    tls: c.MQTT_OIDC_BROKER_TLS_CERT !== undefined && c.MQTT_OIDC_BROKER_TLS_KEY !== undefined
      ? { certPath: c.MQTT_OIDC_BROKER_TLS_CERT, keyPath: c.MQTT_OIDC_BROKER_TLS_KEY, port: c.MQTT_OIDC_BROKER_TLS_PORT ?? ports.tls }
      : undefined,
    emqxHookPort: c.MQTT_OIDC_BROKER_EMQX_HOOK_PORT ?? ports.emqxHook,
    emqxApi: c.MQTT_OIDC_BROKER_EMQX_API_URL !== undefined && c.MQTT_OIDC_BROKER_EMQX_API_KEY !== undefined && c.MQTT_OIDC_BROKER_EMQX_API_SECRET !== undefined
      ? { url: c.MQTT_OIDC_BROKER_EMQX_API_URL, apiKey: c.MQTT_OIDC_BROKER_EMQX_API_KEY, apiSecret: c.MQTT_OIDC_BROKER_EMQX_API_SECRET }
      : undefined,
    redisUrl: c.MQTT_OIDC_BROKER_REDIS_URL,
    reportSessions: c.MQTT_OIDC_BROKER_REPORT_SESSIONS,
    nodeId: c.MQTT_OIDC_BROKER_NODE_ID,
    logLevel: c.MQTT_OIDC_BROKER_LOG_LEVEL,
    warnings,
  }
}
