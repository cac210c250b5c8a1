import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import express, { type NextFunction, type Request, type Response } from 'express'
import { Provider } from 'oidc-provider'
import type { Logger } from 'pino'
import { createHealthServer, handleHealthRequest, type HealthEndpoints, type Store } from '@mqtt-oidc/core'
import { observeStore } from '@mqtt-oidc/store'
import { createIdpLogger } from './create-idp-logger.js'
import { ADMIN_CLIENT_ID, DEFAULT_ADMIN_GROUP } from './lib/constants.js'
import { createCsrf } from './lib/csrf.js'
import { createKnownBrowsers, type KnownBrowsers } from './lib/known-browsers.js'
import { createLoginLimiter, DEFAULT_LOGIN_RATE_LIMIT, type LoginRateLimit } from './lib/login-rate-limit.js'
import { createAdminApi } from './lib/admin-api.js'
import { useAutoSubmitPolicy } from './lib/auto-submit-policy.js'
import { staticClients } from './lib/clients.js'
import { useHashedClientSecrets } from './lib/client-secret.js'
import { usePublicClientBasicHeader } from './lib/public-client-basic.js'
import { useSuppliedClaimsOnly } from './lib/supplied-claims.js'
import { useDevicePolling } from './lib/device-polling.js'
import { createInteractionRouter, sendPage } from './lib/interaction-routes.js'
import { errorPage, homePage } from './lib/pages.js'
import { buildProviderConfiguration, CODE_VERIFICATION_PATH, DEFAULT_TTL, type IdpTtl } from './lib/provider-configuration.js'
import { DEFAULT_KEY_RELOAD_SECONDS } from '@mqtt-oidc/jose'
import { loadOrCreateSigningKeys, watchSigningKeys } from './lib/signing-keys.js'
import { useSpendFailedCodes } from './lib/spend-failed-codes.js'
import { createUserCodeLimiter, DEFAULT_USER_CODE_RATE_LIMIT, useUserCodeRateLimit, type UserCodeLimiter, type UserCodeRateLimit } from './lib/user-code-rate-limit.js'
import type { LoginLimiter } from './lib/login-rate-limit.js'
import { createIdpMetrics, type IdpMetrics } from './lib/create-idp-metrics.js'
import type { JWK } from 'jose'

export interface IdpOptions {
  /** Accounts, oidc-provider records (sessions, grants, codes, tokens) and signing keys. Owned by the caller. */
  readonly store: Store
  /** Public issuer URL. Default `http://127.0.0.1:<bound port>`. */
  readonly issuer?: string
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  readonly host?: string
  /** TCP port; 0 picks a free one. Default 0. */
  readonly port?: number
  /** Port of the metrics and health listener (GET /metrics, /healthz, /readyz) on `host`; 0 picks a free one. Default: none. */
  readonly metricsPort?: number | undefined
  /** The exchange URL: the only resource indicator, and the audience of admin access tokens. */
  readonly exchangeUrl: string
  /** The confidential admin client (its secret lives in `<dataDir>/admin-client.json`). */
  readonly adminClient: { readonly clientId: typeof ADMIN_CLIENT_ID; readonly clientSecret: string }
  /** Keys signing the IdP's cookies (first signs, all verify); also the root of the CSRF key. */
  readonly cookieKeys: readonly string[]
  /** Default: a pino logger at `logLevel`. */
  readonly logger?: Logger
  /** Level of the default logger. Default `info`. */
  readonly logLevel?: string
  /** Seconds a device should wait between token polls (`interval`). Default 5. */
  readonly devicePollInterval?: number
  /** Token and session lifetimes in seconds; see `IdpTtl` for defaults. */
  readonly ttl?: Partial<IdpTtl>
  /** Limits on wrong device-flow user codes; see `UserCodeRateLimit` for defaults. */
  readonly userCodeRateLimit?: Partial<UserCodeRateLimit>
  /** Limits on failed logins; see `LoginRateLimit` for defaults. */
  readonly loginRateLimit?: Partial<LoginRateLimit>
  /**
   * RFC 7591 dynamic client registration at /reg, each registration with an
   * initial access token made through the admin API
   * (POST /admin/registration-tokens). Default false.
   */
  readonly dynamicRegistration?: boolean
  /**
   * Seconds between looks at the store's signing keys. A rotation (made by
   * any process on the store), a rotated key starting to sign, or a retired
   * key leaving the JWKS takes effect within this without a restart.
   * Default 60 (KEY_RELOAD_SECONDS).
   */
  readonly keyReloadSeconds?: number
  /**
   * How many reverse proxies (load balancers, TLS offloaders) stand in front
   * of the IdP. With N > 0 the client's address is the one the outermost
   * proxy saw (the Nth `X-Forwarded-For` entry from the right, which a client
   * cannot forge), and `X-Forwarded-Proto: https` marks the request secure
   * (cookies get `Secure`). Default 0: the socket's peer, headers ignored.
   */
  readonly trustedProxies?: number
  /** Documentation linked from the IdP's root page (`/`). Default: none (no link). */
  readonly docsUrl?: string
  /**
   * The exchange's web console as a built-in confidential client (its secret lives in
   * `<dataDir>/console-client.json`, loadOrCreateConsoleClient). Default: none (no console client).
   */
  readonly consoleClient?: { readonly clientSecret: string }
  /** Accounts in this group (the `groups` of an account) may use the console: only they get the admin scope. Default `mqtt-oidc-admins`. */
  readonly adminGroup?: string
}

/** Default seconds between the IdP's looks at its signing keys in the store: the key sets' one reload period (the rotation lead is set against it). */
export const KEY_RELOAD_SECONDS = DEFAULT_KEY_RELOAD_SECONDS

export interface Idp {
  /** Binds, then builds the provider for the now-known issuer. `metricsUrl` is the metrics listener's `/metrics`, when there is one. */
  listen(): Promise<{ url: string; port: number; metricsUrl?: string }>
  /** Stops accepting requests and closes open connections; leaves the store open. */
  close(): Promise<void>
  /** The issuer URL (known before `listen()` only when configured). */
  readonly issuer: string
  /** The oidc-provider instance, for later wiring (available after `listen()`). */
  readonly provider: Provider
}

/**
 * The OIDC authorization server: oidc-provider mounted in express with our
 * login, consent and device pages, accounts and keys in the Store.
 *
 * @example
 * const idp = createIdp({ store, exchangeUrl: 'http://localhost:4001', adminClient, cookieKeys })
 * const { url } = await idp.listen()
 */
export function createIdp(given: IdpOptions): Idp {
  validateOptions(given)
  const logger = given.logger ?? createIdpLogger(given.logLevel)
  const metrics = createIdpMetrics({ processMetrics: given.metricsPort !== undefined })
  // Every store call of the IdP is timed (store latency metrics).
  const options: IdpOptions = { ...given, store: observeStore(given.store, metrics.storeCall) }
  const host = options.host ?? '127.0.0.1'
  let server: Server | undefined
  let metricsServer: Server | undefined
  const metricsSockets = new Set<Socket>()
  let issuer = options.issuer
  let provider: Provider | undefined
  let published = 0
  const sockets = new Set<Socket>()
  let pruneTimer: NodeJS.Timeout | undefined
  let keyWatch: { stop(): void } | undefined
  // Counters of failed logins and wrong user codes outlive a provider rebuilt for new keys.
  const loginRateLimit = { ...DEFAULT_LOGIN_RATE_LIMIT, ...options.loginRateLimit }
  const limiters: Limiters = {
    login: metrics.observeLogins(createLoginLimiter(loginRateLimit)),
    knownBrowsers: createKnownBrowsers(options.cookieKeys, loginRateLimit.knownForSeconds),
    userCode: metrics.observeUserCodes(createUserCodeLimiter({ ...DEFAULT_USER_CODE_RATE_LIMIT, ...options.userCodeRateLimit })),
  }
  const ttl = { ...DEFAULT_TTL, ...options.ttl }
  // Retired keys stay published while a token they signed may still be valid
  // (ID tokens and the admin's JWT access tokens; other tokens are opaque).
  const retainSeconds = Math.max(ttl.idToken, ttl.adminAccessToken) + KEY_RETENTION_SKEW
  // Ready once it serves with its signing keys, while its store answers.
  const health: HealthEndpoints = {
    ready: {
      store: async () => { await options.store.ping(); return { ok: true } },
      signing_keys: () => ({ ok: provider !== undefined && server !== undefined && published > 0, published }),
    },
    metrics: metrics.render,
  }

  return {
    get issuer() {
      if (!issuer) throw new Error('the issuer is known after listen()')
      return issuer
    },
    get provider() {
      if (!provider) throw new Error('the provider exists after listen()')
      return provider
    },
    async listen() {
      if (server) throw new Error('already listening')
      server = createServer()
      trackSockets(server, sockets)
      const port = await bind(server, host, options.port ?? 0)
      issuer ??= `http://${defaultIssuerHost(host)}:${port}`
      const publicIssuer = issuer
      let app: express.Express
      let jwks: JWK[]
      try {
        jwks = await loadOrCreateSigningKeys(options.store, retainSeconds)
        provider = buildProvider(options, publicIssuer, logger, jwks, limiters, metrics)
        app = buildApp(provider, options, logger, limiters, jwks, health)
        published = jwks.length
      } catch (err) {
        await closeServer(server, sockets)
        server = undefined
        issuer = options.issuer
        throw err
      }
      server.on('request', (req, res) => { app(req, res) })
      pruneTimer = schedulePrune(options.store, logger)
      await reportClientIdConflicts(options.store, logger)
      // oidc-provider takes its keys once, at construction: new keys mean a new
      // provider on the same store, swapped in between requests (sessions,
      // grants and interactions live in the store; cookie keys and limiters do not change).
      keyWatch = watchSigningKeys({
        store: options.store,
        retainSeconds,
        everySeconds: options.keyReloadSeconds ?? KEY_RELOAD_SECONDS,
        initial: jwks,
        onChange: (next) => {
          provider = buildProvider(options, publicIssuer, logger, next, limiters, metrics)
          app = buildApp(provider, options, logger, limiters, next, health)
          published = next.length
          logger.info({ signing: next.filter((k) => !k.key_ops).map((k) => k.kid), published: next.length }, 'signing keys reloaded')
        },
        onError: (err) => {
          metrics.keyReloadFailed()
          logger.error({ err }, 'reloading signing keys failed; still signing with the current ones')
        },
      })
      let metricsUrl: string | undefined
      if (options.metricsPort !== undefined) {
        const ops = createHealthServer(health)
        trackSockets(ops, metricsSockets)
        metricsServer = ops
        metricsUrl = `http://${defaultIssuerHost(host)}:${await bind(ops, host, options.metricsPort)}/metrics`
      }
      logger.info({ issuer, host, port, ...(metricsUrl ? { metrics: metricsUrl } : {}) }, 'idp listening')
      return { url: issuer, port, ...(metricsUrl ? { metricsUrl } : {}) }
    },
    async close() {
      const current = server
      if (!current) return
      server = undefined
      clearInterval(pruneTimer)
      keyWatch?.stop()
      const ops = metricsServer
      metricsServer = undefined
      await Promise.all([closeServer(current, sockets), ops && closeServer(ops, metricsSockets)])
      logger.info('idp closed')
    },
  }
}

/** Keeps `sockets` to the server's open connections (closeServer ends them). */
function trackSockets(server: Server, sockets: Set<Socket>): void {
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
}

/**
 * Stops listening, closes idle keep-alive connections at once, lets requests
 * in flight finish (their store work included, so the store can be closed
 * after this resolves) for up to `CLOSE_GRACE_MS`, then destroys what is
 * left; resolves once every socket is closed and one I/O turn has passed, so
 * that in-process clients (tests restarting on the same port) have seen the
 * close before they reuse a keep-alive connection.
 */
async function closeServer(server: Server, sockets: ReadonlySet<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
  const socketsClosed = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)))
  server.closeIdleConnections()
  // a connection whose request finishes while we wait turns idle: close it then
  const sweep = setInterval(() => server.closeIdleConnections(), 20)
  const force = setTimeout(() => {
    server.closeAllConnections()
    for (const socket of sockets) socket.destroy()
  }, CLOSE_GRACE_MS)
  try {
    await Promise.all([closed, ...socketsClosed])
  } finally {
    clearInterval(sweep)
    clearTimeout(force)
  }
  await new Promise((resolve) => setImmediate(resolve))
}

/** How long a stop waits for requests in flight before it cuts their connections, ms (within docker stop's 10 s). */
const CLOSE_GRACE_MS = 5000

/** Seconds beyond the token lifetime a retired key stays in the JWKS (clock skew at verifiers). */
const KEY_RETENTION_SKEW = 300

const PRUNE_EVERY_MS = 15 * 60 * 1000

/** oidc-provider's RP-initiated logout route (its default; our configuration keeps it). */
const END_SESSION_PATH = '/session/end'

/** Expired oidc-provider records and lapsed client id leases read as absent anyway; this reclaims their space. */
function schedulePrune(store: Store, logger: Logger): NodeJS.Timeout {
  return setInterval(() => {
    const now = Math.floor(Date.now() / 1000)
    Promise.all([store.oidc.prune(now), store.clientIds.prune(now)]).then(
      ([records, leases]) => { if (records + leases > 0) logger.debug({ records, leases }, 'expired oidc records and client id leases pruned') },
      (err: unknown) => logger.error({ err }, 'pruning expired oidc records failed'),
    )
  }, PRUNE_EVERY_MS).unref()
}

/**
 * Client ids several accounts listed before each id had one owner are
 * nobody's until an admin resolves them; say so at every start until then.
 */
async function reportClientIdConflicts(store: Store, logger: Logger): Promise<void> {
  const conflicts = await store.clientIds.conflicts()
  if (conflicts.length === 0) return
  logger.warn({ code: 'ERR_CLIENT_ID_TAKEN', client_ids: conflicts.map((c) => c.clientId) },
    'client ids listed by several accounts go to none of them until all but one drop them (mqtt-oidc users conflicts; users set <name> --client-id ...)')
}

interface Limiters {
  readonly login: LoginLimiter
  readonly knownBrowsers: KnownBrowsers
  readonly userCode: UserCodeLimiter
}

function buildProvider(options: IdpOptions, issuer: string, logger: Logger, jwks: JWK[], limiters: Limiters, metrics: IdpMetrics): Provider {
  const ttl = { ...DEFAULT_TTL, ...options.ttl }
  const provider = new Provider(issuer, buildProviderConfiguration({
    store: options.store,
    exchangeUrl: options.exchangeUrl,
    adminClientSecret: options.adminClient.clientSecret,
    cookieKeys: options.cookieKeys,
    jwks,
    ttl,
    dynamicRegistration: options.dynamicRegistration ?? false,
    consoleClientSecret: options.consoleClient?.clientSecret,
    adminGroup: options.adminGroup ?? DEFAULT_ADMIN_GROUP,
  }))
  const hops = options.trustedProxies ?? 0
  if (hops > 0) {
    provider.proxy = true
    provider.maxIpsCount = hops
  }
  useHashedClientSecrets(provider)
  usePublicClientBasicHeader(provider)
  useSuppliedClaimsOnly(provider)
  useDevicePolling(provider, options.devicePollInterval ?? 5)
  useSpendFailedCodes(provider)
  useUserCodeRateLimit(provider, CODE_VERIFICATION_PATH, limiters.userCode)
  useAutoSubmitPolicy(provider, CODE_VERIFICATION_PATH, END_SESSION_PATH)
  observe(provider, logger, metrics)
  return provider
}

function buildApp(provider: Provider, options: IdpOptions, logger: Logger, limiters: Limiters, jwks: readonly JWK[], health: HealthEndpoints): express.Express {
  const app = express()
  app.disable('x-powered-by')
  // The same rule as the provider's: req.ip is the client's address as the outermost trusted proxy saw it.
  app.set('trust proxy', options.trustedProxies ?? 0)
  // oidc-provider builds the URLs it writes (discovery's endpoints, verification_uri,
  // redirects) from the request's Host (or a trusted proxy's X-Forwarded-Host).
  // There is one issuer: whatever name the request came under (http://idp:4000
  // inside a compose network, a load balancer's internal name), every URL is under it.
  const issuerHost = new URL(provider.issuer).host
  app.use((req, _res, next) => {
    req.headers.host = issuerHost
    delete req.headers['x-forwarded-host']
    next()
  })
  // Liveness and readiness on the main port too, for a load balancer's checks (metrics only on the metrics port).
  app.use((req, res, next) => { if (!handleHealthRequest(req, res, { ready: health.ready })) next() })
  // What this is, for a person who opened the issuer URL (oidc-provider has nothing there).
  app.get('/', (_req, res) => { sendPage(res, 200, homePage({ consoleUrl: `${options.exchangeUrl.replace(/\/+$/, '')}/console`, docsUrl: options.docsUrl })) })
  app.use('/admin', createAdminApi({
    issuer: provider.issuer, jwks, provider, store: options.store, logger,
    builtInClients: staticClients({ clientSecret: options.adminClient.clientSecret }, options.consoleClient && { clientSecret: options.consoleClient.clientSecret, exchangeUrl: options.exchangeUrl }),
    dynamicRegistration: options.dynamicRegistration ?? false,
  }))
  // Our routes go first: oidc-provider answers everything else (and 404s).
  app.use(createInteractionRouter({
    provider, store: options.store, csrf: createCsrf(options.cookieKeys[0] ?? ''), logger, loginLimiter: limiters.login, knownBrowsers: limiters.knownBrowsers,
  }))
  const oidcProvider = provider.callback()
  // RFC 8414 §3: OAuth clients look for the metadata here; it is the same document (RFC 8414 §5).
  app.get('/.well-known/oauth-authorization-server', (req, res) => {
    req.url = '/.well-known/openid-configuration'
    oidcProvider(req, res)
  })
  app.use(oidcProvider)
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    logger.error({ err }, 'interaction failed')
    if (res.headersSent) {
      next(err)
      return
    }
    sendPage(res, 500, errorPage({ message: 'Something went wrong on our side. Try again later.', code: 'server_error' }))
  })
  return app
}

// oidc-provider events → log lines. Polling answers are routine (debug);
// other refusals are denials (warn); server errors are failures (error).
function observe(provider: Provider, logger: Logger, metrics: IdpMetrics): void {
  type Ctx = { oidc?: { client?: { clientId: string }; params?: { grant_type?: unknown } } }
  type Refusal = { error?: string; error_description?: string }
  // The typings overload `on` per event name; one loose handle for a loop.
  const on = provider.on.bind(provider) as unknown as (event: string, listener: (ctx: Ctx, err: Refusal) => void) => void
  const routine = new Set(['authorization_pending', 'slow_down'])
  const events = ['grant.error', 'authorization.error', 'device_authorization.error', 'code_verification.error', 'device_resume.error', 'introspection.error', 'revocation.error', 'userinfo.error', 'end_session.error']
  for (const event of events) {
    on(event, (ctx, err) => {
      const fields = { event, error: err.error, error_description: err.error_description, client_id: ctx.oidc?.client?.clientId }
      metrics.oauthRefusal(err.error ?? 'unknown')
      if (err.error && routine.has(err.error)) logger.debug(fields, 'oauth refusal')
      else logger.warn(fields, 'oauth refusal')
    })
  }
  on('server_error', (_ctx, err) => logger.error({ err }, 'oidc-provider server error'))
  on('grant.success', (ctx) => {
    metrics.tokenIssued(typeof ctx.oidc?.params?.grant_type === 'string' ? ctx.oidc.params.grant_type : 'unknown')
    logger.info({ client_id: ctx.oidc?.client?.clientId, grant_type: ctx.oidc?.params?.grant_type }, 'token issued')
  })
}

function validateOptions(options: IdpOptions): void {
  const problems: string[] = []
  if (options.cookieKeys.length === 0 || options.cookieKeys.some((key) => key.length < 32)) problems.push('cookieKeys: at least one key of 32+ characters')
  if (options.adminClient.clientId !== ADMIN_CLIENT_ID) problems.push(`adminClient.clientId must be ${ADMIN_CLIENT_ID}`)
  if (options.adminClient.clientSecret.length < 32) problems.push('adminClient.clientSecret: 32+ characters')
  if (options.consoleClient !== undefined && options.consoleClient.clientSecret.length < 32) problems.push('consoleClient.clientSecret: 32+ characters')
  if (options.adminGroup !== undefined && options.adminGroup.trim() === '') problems.push('adminGroup: a group name')
  if (!URL.canParse(options.exchangeUrl)) problems.push('exchangeUrl: an absolute URL')
  if (options.issuer !== undefined && !URL.canParse(options.issuer)) problems.push('issuer: an absolute URL')
  const metricsPort = options.metricsPort
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535)) problems.push('metricsPort: a port number from 0 to 65535')
  if (options.docsUrl !== undefined && !/^https?:$/.test(URL.parse(options.docsUrl)?.protocol ?? '')) problems.push('docsUrl: an http(s) URL')
  const reload = options.keyReloadSeconds
  if (reload !== undefined && !(Number.isFinite(reload) && reload > 0)) problems.push('keyReloadSeconds: a positive number of seconds')
  const hops = options.trustedProxies
  if (hops !== undefined && !(Number.isInteger(hops) && hops >= 0 && hops <= 10)) problems.push('trustedProxies: a whole number from 0 to 10')
  const interval = options.devicePollInterval
  if (interval !== undefined && !(Number.isInteger(interval) && interval >= 1)) problems.push('devicePollInterval: a whole number of seconds >= 1')
  for (const [name, value] of Object.entries(options.ttl ?? {})) {
    if (!(Number.isSafeInteger(value) && value > 0)) problems.push(`ttl.${name}: a positive whole number of seconds`)
  }
  if (problems.length > 0) throw new TypeError(`invalid IdP options: ${problems.join('; ')}`)
}

function bind(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function defaultIssuerHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === 'localhost') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}
