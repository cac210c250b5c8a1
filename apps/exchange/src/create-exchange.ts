import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import type { NextFunction, Request, Response } from 'express'
import type { Logger } from 'pino'
import { InvalidRequest, NotFound, bodyParserRefusal, createHealthServer, handleHealthRequest, refusalFor } from '@mqtt-oidc/core'
import { observeStore } from '@mqtt-oidc/store'
import type { HealthEndpoints } from '@mqtt-oidc/core'
import { DEFAULT_KEY_LEAD_SECONDS } from '@mqtt-oidc/jose'
import type { LogFn } from '@mqtt-oidc/jose'
import type { Acl, Store } from '@mqtt-oidc/core'
import type { ExchangeContext } from './lib/context.js'
import { createExchangeLogger } from './create-exchange-logger.js'
import { createExchangeMetrics } from './lib/create-exchange-metrics.js'
import { createTrustedIssuer } from './lib/trusted-issuers.js'
import type { TrustedIssuerOptions } from './lib/trusted-issuers.js'
import { createRevocationNotifier } from './lib/revocation-notifier.js'
import { loadSigningKeys } from './lib/signing-keys.js'
import { createKeyUsage } from './lib/key-usage.js'
import { createBrokerCache } from './lib/broker-cache.js'
import { createCutoffFollower } from './lib/cutoff-follower.js'
import type { SigningKeys } from './lib/signing-keys.js'
import type { RateLimit } from '@mqtt-oidc/core'
import { adminName, requireAdmin, requireBrokerScope } from './require-admin.js'
import { sendError } from './send-error.js'
import { adminBrokerRoutes } from './routes/admin-brokers.js'
import { adminCredentialRoutes } from './routes/admin-credentials.js'
import { adminRevocationRoutes } from './routes/admin-revocations.js'
import { adminKeyRoutes } from './routes/admin-keys.js'
import { revocationFeedRoutes } from './routes/revocation-feed.js'
import { adminFeedCredentialRoutes } from './routes/admin-feed-credentials.js'
import { tokenStatusRoutes } from './routes/token-status.js'
import { sessionReportRoutes } from './routes/session-reports.js'
import { adminSessionRoutes } from './routes/admin-sessions.js'
import { adminCredentialListRoutes } from './routes/admin-credential-list.js'
import { adminRevocationHistoryRoutes } from './routes/admin-revocation-history.js'
import { adminWhoamiRoutes } from './routes/admin-whoami.js'
import { createFeedStreams } from './lib/feed-streams.js'
import type { FeedStreams } from './lib/feed-streams.js'
import { isTokenRequest, tokenEndpoint } from './routes/token.js'
import { wellKnownRoutes } from './routes/well-known.js'
import { createConsole } from './console/create-console.js'
import type { ConsoleOptions } from './console/console-options.js'

/** ACL template of brokers created without one: pub+sub `devices/${clientid}/#`. */
export const DEFAULT_EXCHANGE_ACL: Acl = Object.freeze({
  pub: Object.freeze(['devices/${clientid}/#']),
  sub: Object.freeze(['devices/${clientid}/#']),
})

export interface ExchangeOptions {
  readonly store: Store
  /**
   * Where our IdP keeps its accounts, the client id owner registry and account
   * cut-offs (disables). Default `store`: one PostgreSQL for every app, or an
   * exchange without our IdP. The embedded SQLite stack passes the IdP's own
   * store (idp.sqlite): the exchange refuses client ids of its accounts to
   * anyone else, and follows disables.
   */
  readonly identityStore?: Store | undefined
  /** How often the exchange looks for newly disabled accounts whose credentials to revoke, ms. Default 1000. */
  readonly cutoffPollMs?: number | undefined
  /** Public URL, the `iss` of broker tokens and `aud` of admin access tokens. Default `http://127.0.0.1:<bound port>`. */
  readonly issuer?: string | undefined
  /** Listen address. Default 127.0.0.1. */
  readonly host?: string | undefined
  /** Listen port. Default 0 (any free port). */
  readonly port?: number | undefined
  /** Port of the metrics and health listener (GET /metrics, /healthz, /readyz) on `host`; 0 picks a free one. Default: none. */
  readonly metricsPort?: number | undefined
  /** The trusted IdP (`issuer`, `jwksUri?`, `clientIds?` default ['mqtt-oidc-cli'], ...): also the issuer of admin access tokens. */
  readonly idp: TrustedIssuerOptions
  /** More OIDC issuers whose ID tokens / JWT access tokens may be exchanged. Default none. */
  readonly trustedIssuers?: readonly TrustedIssuerOptions[] | undefined
  /** A subject token whose `iat` is older than this is refused, seconds. Default 86400. */
  readonly maxSubjectTokenAge?: number | undefined
  /** Longest lifetime of an exchanged token, seconds. Default 3600. */
  readonly maxLifetime?: number | undefined
  /** Lifetime of admin-issued credentials when neither the request nor the broker sets one, seconds. Default 604800 (7d). */
  readonly defaultCredentialLifetime?: number | undefined
  /** ACL template of brokers created without one. Default DEFAULT_EXCHANGE_ACL. */
  readonly defaultExchangeAcl?: Acl | undefined
  /** Default lead time of `keys rotate`: a new key is in the JWKS this long before it signs, seconds. Default 600 (the JOSE core's DEFAULT_KEY_LEAD_SECONDS). */
  readonly keyLeadTime?: number | undefined
  /**
   * Token exchanges per subject (one sign-in: issuer, `sub` and client id claim) per window, on
   * top of any broker policy's limit; null = none. Default DEFAULT_SUBJECT_RATE_LIMIT (20 per 60 s).
   */
  readonly subjectRateLimit?: RateLimit | null | undefined
  /** Credentials one admin (access token `sub`, else `client_id`) may issue per window; null = none. Default DEFAULT_ADMIN_ISSUE_RATE_LIMIT (1000 per 60 s). */
  readonly adminIssueRateLimit?: RateLimit | null | undefined
  /** Most live (unexpired, unrevoked) admin-issued credentials per broker; null = no cap. Default DEFAULT_MAX_LIVE_ADMIN_CREDENTIALS (100000). */
  readonly maxLiveAdminCredentials?: number | null | undefined
  /**
   * How often the store drops the records of tokens that expired over an hour ago (credentials,
   * revocations, revocation events), ms; also once at listen(). Default 3600000 (1 h).
   */
  readonly pruneIntervalMs?: number | undefined
  /** Keepalive comment interval of revocation streams, ms. Default 15000. */
  readonly keepaliveMs?: number | undefined
  /** Revocation streams this instance holds open in all; more get 503. Default 10000. */
  readonly maxFeedStreams?: number | undefined
  /** Revocation streams one broker may hold open (one per node, plus hooks); more get 429. Default 16. */
  readonly maxFeedStreamsPerBroker?: number | undefined
  /** How often a broker node reports its sessions when nothing changed, seconds (sent to it with every answer); a node silent for three is taken for gone. Default 15. */
  readonly sessionHeartbeatSeconds?: number | undefined
  /** Most broker nodes reporting sessions per broker. Default DEFAULT_MAX_REPORTING_NODES (64). */
  readonly maxReportingNodes?: number | undefined
  /** Most reported sessions per broker (what the store keeps for the console). Default DEFAULT_MAX_REPORTED_SESSIONS (1000000). */
  readonly maxReportedSessions?: number | undefined
  /**
   * The web console at /console (people of the IdP's admin group sign in with the code flow; every action
   * goes through this admin API with their own token). Default: none, and /console says it is not set up.
   */
  readonly console?: ConsoleOptions | undefined
  /** Current time in epoch seconds (tests move it). Default the system clock. */
  readonly now?: (() => number) | undefined
  readonly logger?: Logger | undefined
  /** Level of the default logger. Default 'info'. */
  readonly logLevel?: string | undefined
}

export interface Exchange {
  /**
   * Loads (or creates) the signing key, follows the store's revocation changes, and listens. `url` is the bound local
   * address; `metricsUrl` the metrics listener's `/metrics`, when there is one.
   */
  listen(): Promise<{ url: string; port: number; metricsUrl?: string }>
  /** Ends revocation streams and stops listening; the store stays open (the caller owns it). */
  close(): Promise<void>
  /** The issuer URL; without a configured issuer it is known only after listen(). */
  readonly issuer: string
}

const CLOSE_GRACE_MS = 1000

/**
 * Records of a token are pruned this long after it expired, seconds: a
 * broker whose clock runs behind still finds the revocation in a snapshot,
 * and an admin revoking a just-expired token still finds its record.
 */
export const PRUNE_GRACE = 3600

/** Lifetime of admin-issued credentials when neither the request nor the broker sets one: 7 days. */
export const DEFAULT_CREDENTIAL_LIFETIME = 604800

/** Oldest subject token (by `iat`) the exchange accepts: 1 day. */
export const DEFAULT_MAX_SUBJECT_TOKEN_AGE = 86400

/**
 * 20 exchanges per subject per minute: 10 times what the client library
 * needs at its fastest (renewing a 60 s token at half its life), so no
 * well-behaved client meets it, while a runaway or stolen sign-in gets one
 * token per 3 s on average instead of as many as the CPU can sign (each one
 * a durable write).
 */
export const DEFAULT_SUBJECT_RATE_LIMIT: RateLimit = Object.freeze({ requests: 20, windowSeconds: 60 })

/**
 * 1000 credentials per admin per minute: ten full batches, enough to
 * provision a fleet of 10,000 in ten minutes, while a script stuck in a loop
 * writes at most 1000 rows a minute.
 */
export const DEFAULT_ADMIN_ISSUE_RATE_LIMIT: RateLimit = Object.freeze({ requests: 1000, windowSeconds: 60 })

/**
 * 100,000 live admin-issued credentials per broker: far above any fleet
 * provisioned by hand, and a bound on what a forced broker deletion revokes
 * and what every broker's revocation snapshot can grow to.
 */
export const DEFAULT_MAX_LIVE_ADMIN_CREDENTIALS = 100_000

/** Default heartbeat of broker nodes' session reports, seconds. */
export const DEFAULT_SESSION_HEARTBEAT_SECONDS = 15

/** 64 reporting nodes per broker: a large cluster, and a bound on what one broker's credential can make the store keep. */
export const DEFAULT_MAX_REPORTING_NODES = 64

/** 1,000,000 reported sessions per broker: the fleet size the design aims at, and a bound on one broker's rows. */
export const DEFAULT_MAX_REPORTED_SESSIONS = 1_000_000

/**
 * The token-exchange service and admin API (RFC 8693 + the Cloudflare-style
 * credential lifecycle).
 *
 * @example
 * const exchange = createExchange({ store, idp: { issuer: 'http://localhost:4000' } })
 * const { url } = await exchange.listen()
 */
export function createExchange(options: ExchangeOptions): Exchange {
  const log = options.logger ?? createExchangeLogger(options.logLevel)
  let issuer = options.issuer?.replace(/\/+$/, '')
  let keys: SigningKeys | undefined
  let server: Server | undefined
  let metricsServer: Server | undefined
  let selfUrl: string | undefined
  let pruneTimer: NodeJS.Timeout | undefined
  const streams = createFeedStreams({ maxStreams: options.maxFeedStreams ?? 10_000, maxStreamsPerBroker: options.maxFeedStreamsPerBroker ?? 16 })
  const joseLog: LogFn = (level, msg, fields) => log[level](fields ?? {}, msg)
  const idp = createTrustedIssuer(options.idp, joseLog)
  const issuers = [idp, ...(options.trustedIssuers ?? []).map((i) => createTrustedIssuer(i, joseLog))]
  const metrics = createExchangeMetrics({
    feedStreams: () => streams.size,
    issuerJwks: () => issuers.map((i) => ({ issuer: i.issuer, lastSuccessAt: i.keys.state().lastSuccessAt })),
  }, { processMetrics: options.metricsPort !== undefined })
  // Every store call of the exchange is timed (store latency metrics).
  const store = observeStore(options.store, metrics.storeCall)
  const identityStore = options.identityStore && options.identityStore !== options.store ? observeStore(options.identityStore, metrics.storeCall) : store
  const maxLifetime = options.maxLifetime ?? 3600
  const defaultCredentialLifetime = options.defaultCredentialLifetime ?? DEFAULT_CREDENTIAL_LIFETIME
  const keyUsage = createKeyUsage(store)

  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const ctx: ExchangeContext = {
    store,
    identityStore,
    brokers: createBrokerCache(store, now),
    log,
    notifier: createRevocationNotifier(store.revocations),
    issuer: () => {
      if (issuer === undefined) throw new Error('the exchange issuer is known only after listen()')
      return issuer
    },
    signingKeys: () => {
      if (!keys) throw new Error('signing keys are loaded by listen()')
      return keys
    },
    idp,
    issuers,
    maxSubjectTokenAge: options.maxSubjectTokenAge ?? DEFAULT_MAX_SUBJECT_TOKEN_AGE,
    maxLifetime,
    defaultCredentialLifetime,
    defaultExchangeAcl: options.defaultExchangeAcl ?? DEFAULT_EXCHANGE_ACL,
    keepaliveMs: options.keepaliveMs ?? 15_000,
    subjectRateLimit: options.subjectRateLimit === undefined ? DEFAULT_SUBJECT_RATE_LIMIT : options.subjectRateLimit,
    adminIssueRateLimit: options.adminIssueRateLimit === undefined ? DEFAULT_ADMIN_ISSUE_RATE_LIMIT : options.adminIssueRateLimit,
    maxLiveAdminCredentials: options.maxLiveAdminCredentials === undefined ? DEFAULT_MAX_LIVE_ADMIN_CREDENTIALS : options.maxLiveAdminCredentials,
    keyUsage,
    keyLeadTime: options.keyLeadTime ?? DEFAULT_KEY_LEAD_SECONDS,
    now,
    metrics,
    sessions: {
      notifier: createRevocationNotifier(options.store.sessions),
      heartbeatSeconds: options.sessionHeartbeatSeconds ?? DEFAULT_SESSION_HEARTBEAT_SECONDS,
      maxNodes: options.maxReportingNodes ?? DEFAULT_MAX_REPORTING_NODES,
      maxSessions: options.maxReportedSessions ?? DEFAULT_MAX_REPORTED_SESSIONS,
    },
  }
  const consoleRouter = createConsole({
    options: options.console,
    store: options.store,
    issuer: ctx.issuer,
    selfUrl: () => {
      if (selfUrl === undefined) throw new Error('the exchange\'s address is known only after listen()')
      return selfUrl
    },
    idpIssuer: idp.issuer,
    idpKeys: idp.keys,
    log,
    now,
  })
  const app = createApp(ctx, streams, consoleRouter)
  const token = tokenEndpoint(ctx)
  const cutoffs = createCutoffFollower({ identityStore: ctx.identityStore, store, log, pollMs: options.cutoffPollMs ?? 1000, now })
  // Ready once it serves with its signing keys, while its stores answer.
  const health: HealthEndpoints = {
    ready: {
      store: async () => { await store.ping(); return { ok: true } },
      ...(identityStore !== store ? { identity_store: async () => { await identityStore.ping(); return { ok: true } } } : {}),
      signing_keys: async () => {
        const published = keys ? (await keys.jwks()).keys.length : 0
        return { ok: server !== undefined && published > 0, published }
      },
    },
    metrics: metrics.render,
  }

  return {
    get issuer() { return ctx.issuer() },
    async listen() {
      if (server) throw new Error('the exchange is already listening')
      // A retired key stays published until its last token expired; unrecorded, for the longest lifetime a token may have.
      keys = await loadSigningKeys(store, { now: ctx.now, retainSeconds: Math.max(maxLifetime, defaultCredentialLifetime), retainedUntil: keyUsage.lastExpiry })
      // Revocations committed through any instance sharing the store reach our streams from here on.
      await ctx.notifier.start()
      // So do session reports, for the admin API's session streams (a console watching).
      await ctx.sessions.notifier.start()
      // Accounts disabled while this instance was down lose their live credentials now.
      await cutoffs.start()
      const host = options.host ?? '127.0.0.1'
      // The token endpoint, the hot path, on node:http directly; everything else through express.
      const srv = createServer((req, res) => {
        if (isTokenRequest(req)) token(req, res)
        // Liveness and readiness on the main port too, for a load balancer's checks (metrics only on the metrics port).
        else if (!handleHealthRequest(req, res, { ready: health.ready })) app(req, res)
      })
      server = srv
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(options.port ?? 0, host, () => { srv.off('error', reject); resolve() })
      }).catch(async (err: unknown) => { ctx.notifier.stop(); ctx.sessions.notifier.stop(); await cutoffs.stop(); throw err })
      void prune(ctx)
      pruneTimer = setInterval(() => void prune(ctx), options.pruneIntervalMs ?? 3_600_000)
      pruneTimer.unref()
      const { port } = srv.address() as AddressInfo
      const url = `http://${localHost(host)}:${port}`
      selfUrl = url
      issuer ??= `http://127.0.0.1:${port}`
      let metricsUrl: string | undefined
      if (options.metricsPort !== undefined) {
        const ops = createHealthServer(health)
        metricsServer = ops
        await new Promise<void>((resolve, reject) => {
          ops.once('error', reject)
          ops.listen(options.metricsPort, host, () => { ops.off('error', reject); resolve() })
        })
        metricsUrl = `http://${localHost(host)}:${(ops.address() as AddressInfo).port}/metrics`
      }
      log.info({ url, issuer, ...(metricsUrl ? { metrics: metricsUrl } : {}) }, 'exchange listening')
      return { url, port, ...(metricsUrl ? { metricsUrl } : {}) }
    },
    async close() {
      const srv = server
      if (!srv) return
      server = undefined
      clearInterval(pruneTimer)
      ctx.notifier.stop()
      ctx.sessions.notifier.stop()
      await cutoffs.stop()
      for (const i of issuers) i.keys.close()
      streams.endAll()
      const ops = metricsServer
      metricsServer = undefined
      if (ops) {
        const closed = new Promise<void>((resolve) => ops.close(() => resolve()))
        ops.closeAllConnections()
        await closed
      }
      await new Promise<void>((resolve, reject) => {
        srv.close((err) => (err ? reject(err) : resolve()))
        srv.closeIdleConnections()
        // In-flight requests get a short grace period, then their sockets go too.
        setTimeout(() => srv.closeAllConnections(), CLOSE_GRACE_MS).unref()
      })
      log.info('exchange closed')
    },
  }
}

/**
 * Drops what the store keeps about tokens that expired over PRUNE_GRACE ago
 * (credential records and revocations), and the sessions of broker nodes
 * that stopped reporting that long ago.
 */
async function prune(ctx: ExchangeContext): Promise<void> {
  const before = ctx.now() - PRUNE_GRACE
  try {
    const [revocations, credentials, nodes] = await Promise.all([
      ctx.store.revocations.prune(before), ctx.store.credentials.prune(before), ctx.store.sessions.prune(before),
    ])
    if (revocations + credentials + nodes > 0) ctx.log.info({ revocations, credentials, nodes }, 'pruned the records of expired tokens and silent broker nodes')
  } catch (err) {
    // The store may be away for a while (a PostgreSQL restart); the next round catches up.
    ctx.log.warn({ err }, 'pruning the records of expired tokens failed')
  }
}

function createApp(ctx: ExchangeContext, streams: FeedStreams, consoleRouter: express.Router): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', 'strong')
  // Before the body parsers: session reports have a body limit of their own.
  app.use(sessionReportRoutes(ctx))
  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }))
  app.use(express.json({ limit: '256kb' }))
  app.use(wellKnownRoutes(ctx))
  app.use(revocationFeedRoutes(ctx, streams))
  app.use(tokenStatusRoutes(ctx))
  app.use('/console', consoleRouter)
  app.use('/admin', requireAdmin({ issuer: ctx.idp.issuer, audience: ctx.issuer, keys: ctx.idp.keys, onVerify: (code) => ctx.metrics.verification('admin', code) }))
  app.use('/admin/brokers/:id', (req: Request<{ id: string }>, res: Response, next: NextFunction) => {
    requireBrokerScope(res, req.params.id)
    next()
  })
  app.use(adminWhoamiRoutes())
  app.use(adminBrokerRoutes(ctx))
  app.use(adminCredentialRoutes(ctx))
  app.use(adminCredentialListRoutes(ctx))
  app.use(adminRevocationHistoryRoutes(ctx))
  app.use(adminRevocationRoutes(ctx))
  app.use(adminSessionRoutes(ctx))
  app.use(adminKeyRoutes(ctx))
  app.use(adminFeedCredentialRoutes(ctx, streams))
  app.use((req: Request) => { throw new NotFound(`no route for ${req.method} ${req.path}`) })
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Refused admin actions are audited too (successful ones audit themselves).
    if (req.path.startsWith('/admin')) {
      ctx.log.info({ audit: true, who: adminName(res), action: `${req.method} ${req.path}`, refused: refusalFor(err).code }, 'admin: refused')
    }
    sendError(res, bodyParserRefusal(err) ?? err, ctx.log, { method: req.method, path: req.path })
  })
  return app
}

function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}
