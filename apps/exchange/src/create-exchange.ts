import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import type { NextFunction, Request, Response } from 'express'
import { pino } from 'pino'
import type { Logger } from 'pino'
import { NotFound, bodyParserRefusal, refusalFor } from '@mqtt-oidc/core'
import type { Acl, Store } from '@mqtt-oidc/core'
import type { ExchangeContext } from './lib/context.js'
import { createTrustedIssuer } from './lib/trusted-issuers.js'
import type { TrustedIssuerOptions } from './lib/trusted-issuers.js'
import { createRevocationNotifier } from './lib/revocation-notifier.js'
import { loadSigningKeys } from './lib/signing-keys.js'
import { createKeyUsage } from './lib/key-usage.js'
import { createBrokerCache } from './lib/broker-cache.js'
import type { SigningKeys } from './lib/signing-keys.js'
import { adminName, requireAdmin, requireBrokerScope } from './require-admin.js'
import { sendError } from './send-error.js'
import { adminBrokerRoutes } from './routes/admin-brokers.js'
import { adminCredentialRoutes } from './routes/admin-credentials.js'
import { adminRevocationRoutes } from './routes/admin-revocations.js'
import { adminKeyRoutes } from './routes/admin-keys.js'
import { revocationFeedRoutes } from './routes/revocation-feed.js'
import type { OpenStreams } from './routes/revocation-feed.js'
import { tokenRoutes } from './routes/token.js'
import { wellKnownRoutes } from './routes/well-known.js'

/** ACL template of brokers created without one: pub+sub `devices/${clientid}/#`. */
export const DEFAULT_EXCHANGE_ACL: Acl = Object.freeze({
  pub: Object.freeze(['devices/${clientid}/#']),
  sub: Object.freeze(['devices/${clientid}/#']),
})

export interface ExchangeOptions {
  readonly store: Store
  /** Public URL, the `iss` of broker tokens and `aud` of admin access tokens. Default `http://127.0.0.1:<bound port>`. */
  readonly issuer?: string | undefined
  /** Listen address. Default 127.0.0.1. */
  readonly host?: string | undefined
  /** Listen port. Default 0 (any free port). */
  readonly port?: number | undefined
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
  /** Default lead time of `keys rotate`: a new key is in the JWKS this long before it signs, seconds. Default 600. */
  readonly keyLeadTime?: number | undefined
  /** Keepalive comment interval of revocation streams, ms. Default 15000. */
  readonly keepaliveMs?: number | undefined
  /** Current time in epoch seconds (tests move it). Default the system clock. */
  readonly now?: (() => number) | undefined
  readonly logger?: Logger | undefined
  /** Level of the default logger. Default 'info'. */
  readonly logLevel?: string | undefined
}

export interface Exchange {
  /** Loads (or creates) the signing key, follows the store's revocation changes, and listens. `url` is the bound local address. */
  listen(): Promise<{ url: string; port: number }>
  /** Ends revocation streams and stops listening; the store stays open (the caller owns it). */
  close(): Promise<void>
  /** The issuer URL; without a configured issuer it is known only after listen(). */
  readonly issuer: string
}

const CLOSE_GRACE_MS = 1000

/** Redacted wherever they appear in a log line (never logged on purpose either). */
/** Lifetime of admin-issued credentials when neither the request nor the broker sets one: 7 days. */
export const DEFAULT_CREDENTIAL_LIFETIME = 604800

/** Oldest subject token (by `iat`) the exchange accepts: 1 day. */
export const DEFAULT_MAX_SUBJECT_TOKEN_AGE = 86400

export const REDACT_PATHS = [
  'authorization', '*.authorization', 'req.headers.authorization', 'token', '*.token', 'access_token', '*.access_token',
  'subject_token', '*.subject_token', 'hmacSecret', '*.hmacSecret', 'password', '*.password', 'clientSecret', '*.clientSecret', 'privateJwk', '*.privateJwk',
]

/**
 * The token-exchange service and admin API (RFC 8693 + the Cloudflare-style
 * credential lifecycle).
 *
 * @example
 * const exchange = createExchange({ store, idp: { issuer: 'http://localhost:4000' } })
 * const { url } = await exchange.listen()
 */
export function createExchange(options: ExchangeOptions): Exchange {
  const log = options.logger ?? pino({ name: 'exchange', level: options.logLevel ?? 'info', redact: REDACT_PATHS })
  let issuer = options.issuer?.replace(/\/+$/, '')
  let keys: SigningKeys | undefined
  let server: Server | undefined
  const streams: OpenStreams = new Set()
  const idp = createTrustedIssuer(options.idp)
  const maxLifetime = options.maxLifetime ?? 3600
  const defaultCredentialLifetime = options.defaultCredentialLifetime ?? DEFAULT_CREDENTIAL_LIFETIME
  const keyUsage = createKeyUsage(options.store, Math.max(maxLifetime, defaultCredentialLifetime))
  const issuers = [idp, ...(options.trustedIssuers ?? []).map(createTrustedIssuer)]

  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const ctx: ExchangeContext = {
    store: options.store,
    brokers: createBrokerCache(options.store, now),
    log,
    notifier: createRevocationNotifier(options.store.revocations),
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
    keyUsage,
    keyLeadTime: options.keyLeadTime ?? 600,
    now,
  }
  const app = createApp(ctx, streams)

  return {
    get issuer() { return ctx.issuer() },
    async listen() {
      if (server) throw new Error('the exchange is already listening')
      keys = await loadSigningKeys(options.store, ctx.now, (record) => keyUsage.retained(record, ctx.now()))
      // Revocations committed through any instance sharing the store reach our streams from here on.
      await ctx.notifier.start()
      const host = options.host ?? '127.0.0.1'
      const srv = createServer(app)
      server = srv
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(options.port ?? 0, host, () => { srv.off('error', reject); resolve() })
      }).catch((err: unknown) => { ctx.notifier.stop(); throw err })
      const { port } = srv.address() as AddressInfo
      const url = `http://${localHost(host)}:${port}`
      issuer ??= `http://127.0.0.1:${port}`
      log.info({ url, issuer }, 'exchange listening')
      return { url, port }
    },
    async close() {
      const srv = server
      if (!srv) return
      server = undefined
      ctx.notifier.stop()
      for (const res of streams) res.end()
      streams.clear()
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

function createApp(ctx: ExchangeContext, streams: OpenStreams): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', 'strong')
  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }))
  app.use(express.json({ limit: '256kb' }))
  app.use(wellKnownRoutes(ctx))
  app.use(tokenRoutes(ctx))
  app.use(revocationFeedRoutes(ctx, streams))
  app.use('/admin', requireAdmin({ issuer: ctx.idp.issuer, audience: ctx.issuer, keys: ctx.idp.keys }))
  app.use('/admin/brokers/:id', (req: Request<{ id: string }>, res: Response, next: NextFunction) => {
    requireBrokerScope(res, req.params.id)
    next()
  })
  app.use(adminBrokerRoutes(ctx))
  app.use(adminCredentialRoutes(ctx))
  app.use(adminRevocationRoutes(ctx))
  app.use(adminKeyRoutes(ctx))
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
