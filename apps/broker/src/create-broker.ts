import { randomBytes, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { Aedes } from 'aedes'
import type { Logger } from 'pino'
import {
  attachAedesAuth, createConnectionGate, createConnectThrottle, createFeedGuard, createKeyStore, createRevocationFollower, createSessionReporter, createVerifier,
} from '@mqtt-oidc/broker-auth'
import type { AedesAuth, ConnectThrottleOptions, FeedPolicy, KeyStore, LogFn, RevocationFollower, SessionReporter } from '@mqtt-oidc/broker-auth'
import { createBrokerLogger } from './create-broker-logger.js'
import { reportSessions } from './lib/report-sessions.js'
import { feedCredentialReader } from './lib/feed-credential-file.js'
import { createMetrics } from './lib/create-metrics.js'
import { closeRedisBackends, createRedisBackends } from './lib/redis-backends.js'
import type { RedisBackends } from './lib/redis-backends.js'
import { bind, closeAll, tcpListener, tlsListener, wsListener } from './lib/listeners.js'
import { createHealthServer } from '@mqtt-oidc/core'
import { brokerReadiness } from './lib/broker-readiness.js'
import { observeThrottle } from './lib/observe-throttle.js'
import { observeVerifier } from './lib/observe-verifier.js'
import type { Closable } from './lib/listeners.js'

export interface BrokerOptions {
  /** This broker's id: the `aud` its tokens carry. Required. */
  brokerId: string
  /** The exchange's base URL (JWKS and revocation feed). Required. */
  exchangeUrl: string
  /** Expected token `iss`. Default: `exchangeUrl`. */
  issuer?: string
  /** JWKS URL. Default: `{exchangeUrl}/.well-known/jwks.json`. */
  jwksUri?: string
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string
  /** MQTT over TCP port; 0 = any free port. Default 1883. */
  mqttPort?: number
  /** MQTT over WebSocket port (path `/mqtt`); 0 = any free port. Default 8083. */
  wsPort?: number
  /** MQTT over TLS: PEM certificate chain and key files, and the port (0 = any; default 8883). Default: no TLS listener. */
  tls?: { certPath: string; keyPath: string; port?: number }
  /**
   * The metrics and health listener on this port (0 = any free port): `GET /metrics` (Prometheus), `/healthz`
   * (alive) and `/readyz` (keys held, revocation feed heard from within `feedMaxStaleMs`, and with `redisUrl`
   * every Redis connection ready). Default: none.
   */
  metricsPort?: number
  /** Logger. Default: a pino logger at `logLevel`. */
  logger?: Logger
  /** Level of the default logger. Default `info`. */
  logLevel?: string
  /** Leeway for token `exp`/`nbf`, in seconds. Default 5. */
  clockTolerance?: number
  /** JWKS refresh interval (conditional GETs: an unchanged JWKS costs a 304), in ms. Default 60000. */
  jwksRefreshIntervalMs?: number
  /** Minimum time between JWKS fetches caused by unknown kids, in ms. Default 30000. */
  jwksCooldownMs?: number
  /** How long the last good keys keep working while the JWKS endpoint fails, in ms. Default 3600000. */
  jwksMaxStaleMs?: number
  /**
   * Verified tokens remembered so a reconnecting client skips the signature check, entries; a token
   * is kept from its second CONNECT on (a token seen once, such as each renewal's, is not worth
   * keeping). Default DEFAULT_VERIFIED_CACHE_SIZE (1000): each entry holds a whole token (~0.5 KB), so
   * a cache as large as the fleet would cost more memory than the sessions themselves; after a broker
   * restart it is empty anyway.
   */
  verifiedCacheSize?: number
  /** How long the revocation feed may be out of reach before `feedPolicy` applies, in ms. Default 60000. */
  feedMaxStaleMs?: number
  /** This broker's revocation-feed credential (the secret itself). Default: read from `feedCredentialFile`. */
  feedCredential?: string
  /**
   * File holding the feed credential (mode 0600), read before each feed request, so a
   * rotated credential is picked up without a restart. Default: none (no credential).
   */
  feedCredentialFile?: string
  /** Largest CONNECT read before authentication, in bytes. Default 65536 (a broker token is at most 8 KiB). */
  maxConnectBytes?: number
  /** Largest packet after authentication, in bytes. Default 1048576 (1 MiB). */
  maxPacketBytes?: number
  /** A connection must have sent its whole CONNECT within this, in ms, or it is closed. Default 10000. */
  connectTimeoutMs?: number
  /**
   * The per-address budget of failed CONNECTs: an address that spends it has its new connections
   * refused for a hold-off that doubles each time. Default 30 failures per 60 s, 10 s doubling to
   * 300 s; `maxFailures: 0` turns it off (clients behind one NAT or proxy share an address).
   */
  connectFailures?: ConnectThrottleOptions
  /** New CONNECTs once the feed is out of reach too long: `fail-closed` (CONNACK 3) or `fail-open`. Default `fail-closed`. */
  feedPolicy?: FeedPolicy
  /**
   * `redis://host:port[/db]`: several nodes of this broker share subscriptions, sessions and
   * retained messages through Redis (aedes' mqemitter-redis and aedes-persistence-redis);
   * each node still verifies tokens and follows revocations for its own connections.
   * Default: none (one node, in memory).
   */
  redisUrl?: string
  /**
   * Report this node's live sessions (client id, username, jti, connected since, token expiry,
   * address) to the exchange with the feed credential, for the console. Default true.
   */
  reportSessions?: boolean
  /** This node's id in session reports, unique among the broker's nodes. Default `<hostname>-<6 random hex>`. */
  nodeId?: string
}

export interface BrokerAddresses {
  readonly mqttUrl: string
  readonly wsUrl: string
  readonly mqttPort: number
  readonly wsPort: number
  /** `mqtts://host:port` when the TLS listener is on. */
  readonly mqttsUrl?: string
  readonly mqttsPort?: number
  /** `http://host:port/metrics` when the metrics listener is on. */
  readonly metricsUrl?: string
}

export interface Broker {
  /** Loads the revocation snapshot (and warms the JWKS), then opens the listeners. */
  listen(): Promise<BrokerAddresses>
  /** Closes listeners, live sessions and the revocation feed. */
  close(): Promise<void>
  /** The revocation follower once `listen()` started (for health and metrics). */
  readonly follower: RevocationFollower | undefined
  /** The JWKS key store once `listen()` started. */
  readonly keys: KeyStore | undefined
}

/** Default size of the broker's verified-token cache, entries (see BrokerOptions.verifiedCacheSize). */
export const DEFAULT_VERIFIED_CACHE_SIZE = 1000

/**
 * The embedded aedes MQTT broker with broker-token auth.
 *
 * @example
 * const broker = createBroker({ brokerId: 'demo', exchangeUrl: 'http://localhost:4001' })
 * const { mqttUrl } = await broker.listen()
 */
export function createBroker(options: BrokerOptions): Broker {
  const logger = options.logger ?? createBrokerLogger('broker', options.logLevel)
  const log: LogFn = (level, msg, fields) => logger[level]({ broker: options.brokerId, ...fields }, msg)
  const host = options.host ?? '127.0.0.1'
  const shown = host.includes(':') ? `[${host}]` : host
  let follower: RevocationFollower | undefined
  let keys: KeyStore | undefined
  let aedes: Aedes | undefined
  let auth: AedesAuth | undefined
  let redis: RedisBackends | undefined
  let reporter: SessionReporter | undefined
  let redisClosed: Promise<void> | undefined
  let servers: Closable[] = []

  async function listen(): Promise<BrokerAddresses> {
    if (follower) throw new Error('broker already listening')
    const base = options.exchangeUrl.replace(/\/*$/, '/')
    const credential = options.feedCredential ?? (options.feedCredentialFile ? feedCredentialReader(options.feedCredentialFile, log) : undefined)
    const f = (follower = createRevocationFollower({ feedUrl: options.exchangeUrl, broker: options.brokerId, credential, log }))
    const metrics = createMetrics(options.brokerId, {
      sessions: () => auth?.sessionCount ?? 0,
      feedLagMs: () => feedGuard.lagMs(),
      feedRevision: () => f.state().revision,
      revokedJtis: () => f.state().size,
      jwksKeys: () => keys?.state().keys ?? 0,
      jwksLastSuccessAt: () => keys?.state().lastSuccessAt ?? null,
    }, { processMetrics: options.metricsPort !== undefined })
    const feedGuard = createFeedGuard({ follower: f, maxStaleMs: options.feedMaxStaleMs, policy: options.feedPolicy, log })
    const k = (keys = createKeyStore({
      jwksUri: options.jwksUri ?? new URL('.well-known/jwks.json', base).href,
      refreshIntervalMs: options.jwksRefreshIntervalMs,
      cooldownMs: options.jwksCooldownMs,
      maxStaleMs: options.jwksMaxStaleMs,
      onFetch: metrics.jwksFetch,
      log,
    }))
    const verifier = observeVerifier(createVerifier({
      issuer: options.issuer ?? options.exchangeUrl.replace(/\/+$/, ''),
      audience: options.brokerId,
      jwksUri: options.jwksUri ?? '',
      keys: k,
      clockTolerance: options.clockTolerance,
      cacheSize: options.verifiedCacheSize ?? DEFAULT_VERIFIED_CACHE_SIZE,
      revocations: f,
      log,
    }), metrics.verification)
    // warm the key cache (a failure is logged; CONNECTs then retry it per cooldown) and
    // accept no CONNECT before the full revocation list is known
    await Promise.all([k.refresh(), f.ready()])
    // Nodes sharing Redis need distinct aedes ids (wills and heartbeats are per node).
    redis = options.redisUrl ? createRedisBackends(options.redisUrl, log) : undefined
    const id = redis ? `mqtt-oidc-${options.brokerId}-${randomUUID()}` : `mqtt-oidc-${options.brokerId}`
    const broker = await Aedes.createBroker({ id, connectTimeout: options.connectTimeoutMs ?? 10_000, ...(redis ?? {}) })
    aedes = broker
    // Once every client is closed (their sessions written), the persistence's connection can go.
    const r = redis
    if (r) broker.once('closed', () => { redisClosed = closeRedisBackends(r) })
    const gate = createConnectionGate(broker, {
      limits: { maxConnectBytes: options.maxConnectBytes, maxPacketBytes: options.maxPacketBytes },
      throttle: observeThrottle(createConnectThrottle(options.connectFailures), metrics),
      log,
    })
    reporter = options.reportSessions === false ? undefined : createSessionReporter({
      exchangeUrl: options.exchangeUrl, broker: options.brokerId, node: options.nodeId ?? `${hostname()}-${randomBytes(3).toString('hex')}`, credential, log,
    })
    auth = attachAedesAuth(broker, {
      verifier, follower: f, feedGuard, log, sessions: reporter && reportSessions(reporter),
      onConnect: (code, client, connack) => {
        metrics.connect(code, connack === undefined ? 'none' : String(connack))
        if (code !== undefined) gate.refused(code, client)
      },
    })
    broker.on('clientError', (client, err) => log('debug', 'client error', { client_id: client.id, err: err.message }))
    broker.on('connectionError', (_client, err) => log('debug', 'connection error before CONNECT', { err: err.message }))

    const tcp = tcpListener(gate)
    const { http, wss } = wsListener(gate)
    servers = [tcp, wss, http]
    const mqttPort = await bind(tcp, options.mqttPort ?? 1883, host)
    const wsPort = await bind(http, options.wsPort ?? 8083, host)
    let addresses: BrokerAddresses = { mqttUrl: `mqtt://${shown}:${mqttPort}`, wsUrl: `ws://${shown}:${wsPort}/mqtt`, mqttPort, wsPort }
    if (options.tls) {
      const tls = await tlsListener(gate, options.tls.certPath, options.tls.keyPath)
      servers.push(tls)
      const mqttsPort = await bind(tls, options.tls.port ?? 8883, host)
      addresses = { ...addresses, mqttsUrl: `mqtts://${shown}:${mqttsPort}`, mqttsPort }
    }
    if (options.metricsPort !== undefined) {
      const server = createHealthServer({
        ready: {
          ...brokerReadiness({
            keys: k, feedGuard, maxStaleMs: options.feedMaxStaleMs, jwksMaxStaleMs: options.jwksMaxStaleMs, listening: () => aedes !== undefined && !aedes.closed,
          }),
          // while Redis is away, CONNECTs and cross-node publishes wait for it
          ...(r ? { redis: () => r.state() } : {}),
        },
        metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
      })
      servers.push(server)
      const port = await bind(server, options.metricsPort, host)
      addresses = { ...addresses, metricsUrl: `http://${shown}:${port}/metrics` }
    }
    logger.info({ broker: options.brokerId, ...addresses }, 'broker listening')
    return addresses
  }

  async function close(): Promise<void> {
    const a = aedes
    // Redis away: do not wait for it (a shutdown during an outage would hang until Redis is back)
    const redisState = redis?.state()
    if (redisState && !redisState.ok) {
      log('warn', 'closing while Redis is unreachable: what this node still had to write there is dropped', { redis: redisState.connections })
      redis?.abandon()
    }
    const closing: Promise<unknown>[] = [closeAll(servers)]
    if (a) closing.push(new Promise<void>((resolve) => a.close(() => resolve())))
    auth?.close()
    keys?.close()
    closing.push(follower?.close() ?? Promise.resolve())
    await Promise.all(closing)
    // After aedes closed its clients: the last report says this node holds nothing.
    await reporter?.close()
    await redisClosed
    servers = []
    redis = redisClosed = reporter = undefined
    aedes = auth = undefined
    logger.info({ broker: options.brokerId }, 'broker closed')
  }

  return {
    listen,
    close,
    get follower() {
      return follower
    },
    get keys() {
      return keys
    },
  }
}
