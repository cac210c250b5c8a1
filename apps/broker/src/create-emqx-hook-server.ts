import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { createEmqxHooks, createFeedGuard, createKeyStore, createRevocationFollower, createSessionReporter, createVerifier } from '@mqtt-oidc/broker-auth'
import type { FeedPolicy, LogFn, RevocationFollower } from '@mqtt-oidc/broker-auth'
import { createBrokerLogger } from './create-broker-logger.js'
import { feedCredentialReader } from './lib/feed-credential-file.js'
import { handleHealthRequest } from '@mqtt-oidc/core'
import { brokerReadiness } from './lib/broker-readiness.js'
import { createMetrics } from './lib/create-metrics.js'
import { observeVerifier } from './lib/observe-verifier.js'
import { bind, closeAll } from './lib/listeners.js'
import { createEmqxSessionReports } from './lib/emqx-session-reports.js'

export interface EmqxHookServerOptions {
  /** The EMQX broker's id: the `aud` its tokens carry. Required. */
  brokerId: string
  /** The exchange's base URL (JWKS and revocation feed). Required. */
  exchangeUrl: string
  /** Expected token `iss`. Default: `exchangeUrl`. */
  issuer?: string
  /** JWKS URL. Default: `{exchangeUrl}/.well-known/jwks.json`. */
  jwksUri?: string
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 = any free port. Default 8991. */
  port?: number
  /** Leeway for token `exp`/`nbf`, in seconds. Default 5. */
  clockTolerance?: number
  /** How long the revocation feed may be out of reach before `feedPolicy` applies, in ms. Default 60000. */
  feedMaxStaleMs?: number
  /** Default `fail-closed`. */
  feedPolicy?: FeedPolicy
  /** The EMQX broker's revocation-feed credential (the secret itself). Default: read from `feedCredentialFile`. */
  feedCredential?: string
  /** File holding it (mode 0600), read before each feed request. Default: none (no credential). */
  feedCredentialFile?: string
  /**
   * EMQX's REST API (base URL, API key and secret): a revoked jti's live sessions are kicked
   * (`DELETE /api/v5/clients/{clientid}`), which also stops deliveries on existing subscriptions.
   * Default: none (a revoked session is only denied further publish/subscribe).
   */
  emqxApi?: { url: string; apiKey: string; apiSecret: string }
  /**
   * Report the sessions this hook authenticated to the exchange (with the feed credential), for the
   * console: gone on revocation, token expiry or re-authentication; EMQX does not tell the hook of other
   * disconnects. Default true.
   */
  reportSessions?: boolean
  /** This hook's id in session reports. Default `<hostname>-<6 random hex>`. */
  nodeId?: string
  logger?: Logger
}

export interface EmqxHookServer {
  /**
   * Loads revocations and keys, then serves `POST /emqx/authn` and `POST /emqx/authz`, and the operations
   * endpoints: `GET /metrics` (Prometheus), `/healthz` (alive) and `/readyz` (keys held, revocation feed fresh).
   */
  listen(): Promise<{ url: string; port: number }>
  close(): Promise<void>
  readonly follower: RevocationFollower | undefined
}

const MAX_BODY = 16_384

/** Reads an EMQX request: JSON or form body (POST), or the query string (GET). */
async function readRequest(req: IncomingMessage): Promise<Record<string, unknown>> {
  const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams)
  if (req.method === 'GET') return query
  let body = ''
  for await (const chunk of req) {
    body += String(chunk)
    if (body.length > MAX_BODY) throw new Error('body too large')
  }
  const type = req.headers['content-type'] ?? ''
  if (type.startsWith('application/x-www-form-urlencoded')) return { ...query, ...Object.fromEntries(new URLSearchParams(body)) }
  const parsed: unknown = body === '' ? {} : JSON.parse(body)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('body is not a JSON object')
  return { ...query, ...(parsed as Record<string, unknown>) }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
}

/**
 * The HTTP authentication + authorization service for EMQX 5 (see
 * apps/broker/EMQX.md for the EMQX side): our token verification, live revocation
 * and ACLs for a broker we do not embed.
 *
 * @example
 * const hook = createEmqxHookServer({ brokerId: 'emqx', exchangeUrl: 'http://localhost:4001' })
 * await hook.listen() // EMQX: url = "http://127.0.0.1:8991/emqx/authn"
 */
export function createEmqxHookServer(options: EmqxHookServerOptions): EmqxHookServer {
  const logger = options.logger ?? createBrokerLogger('emqx-hook')
  const log: LogFn = (level, msg, fields) => logger[level]({ broker: options.brokerId, ...fields }, msg)
  const base = options.exchangeUrl.replace(/\/*$/, '/')
  let follower: RevocationFollower | undefined
  let close = async (): Promise<void> => {}

  async function listen(): Promise<{ url: string; port: number }> {
    if (follower) throw new Error('already listening')
    const credential = options.feedCredential ?? (options.feedCredentialFile ? feedCredentialReader(options.feedCredentialFile, log) : undefined)
    const f = (follower = createRevocationFollower({ feedUrl: options.exchangeUrl, broker: options.brokerId, credential, log }))
    const feedGuard = createFeedGuard({ follower: f, maxStaleMs: options.feedMaxStaleMs, policy: options.feedPolicy, log })
    // The hooks count the sessions the metrics report, and report to the metrics: made after them.
    const made: { hooks?: ReturnType<typeof createEmqxHooks> } = {}
    // EMQX decides the CONNACK from allow/deny: the decisions are counted without one.
    const metrics = createMetrics(options.brokerId, {
      sessions: () => made.hooks?.sessionCount ?? 0,
      feedLagMs: () => feedGuard.lagMs(),
      feedRevision: () => f.state().revision,
      revokedJtis: () => f.state().size,
      jwksKeys: () => keys.state().keys,
      jwksLastSuccessAt: () => keys.state().lastSuccessAt,
    }, { processMetrics: true })
    const keys = createKeyStore({ jwksUri: options.jwksUri ?? new URL('.well-known/jwks.json', base).href, onFetch: metrics.jwksFetch, log })
    const verifier = observeVerifier(createVerifier({
      issuer: options.issuer ?? options.exchangeUrl.replace(/\/+$/, ''), audience: options.brokerId, jwksUri: '',
      keys, revocations: f, clockTolerance: options.clockTolerance, log,
    }), metrics.verification)
    const reporter = options.reportSessions === false ? undefined : createSessionReporter({
      exchangeUrl: options.exchangeUrl, broker: options.brokerId, node: options.nodeId ?? `${hostname()}-${randomBytes(3).toString('hex')}`, credential, log,
    })
    const reports = reporter && createEmqxSessionReports(reporter)
    const emqx = createEmqxHooks({ verifier, revocations: f, feedGuard, onConnect: (code) => metrics.connect(code, ''), log, sessions: reports })
    made.hooks = emqx
    let listening = false
    const health = {
      ready: brokerReadiness({ keys, feedGuard, maxStaleMs: options.feedMaxStaleMs, listening: () => listening }),
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
    }
    const api = options.emqxApi
    const offRevoked = api || reports ? f.on('revoked', (jti) => {
      for (const clientId of emqx.clientsOf(jti)) {
        reports?.ended(clientId)
        if (api) void kick(api, clientId, jti)
      }
    }) : undefined
    const sweep = reports && setInterval(() => reports.sweep(Math.floor(Date.now() / 1000)), 5000)
    sweep?.unref()
    await Promise.all([keys.refresh(), f.ready()])
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      if (handleHealthRequest(req, res, health)) return
      if (path !== '/emqx/authn' && path !== '/emqx/authz') return send(res, 404, { error: 'not_found' })
      readRequest(req).then(
        async (request) => {
          const answer = path === '/emqx/authn' ? await emqx.authenticate(request) : emqx.authorize(request)
          send(res, answer.status, answer.body)
        },
        // a request we cannot read is denied, never ignored
        () => send(res, 200, { result: 'deny' }),
      ).catch((err: unknown) => {
        log('error', 'EMQX hook failed', { err: err instanceof Error ? err.message : String(err) })
        if (!res.headersSent) send(res, 200, { result: 'deny' })
      })
    })
    const host = options.host ?? '127.0.0.1'
    const port = await bind(server, options.port ?? 8991, host)
    listening = true
    close = async () => {
      listening = false
      offRevoked?.()
      clearInterval(sweep)
      keys.close()
      await Promise.all([closeAll([server]), f.close(), reporter?.close()])
    }
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    logger.info({ broker: options.brokerId, url }, 'EMQX hook listening')
    return { url, port }
  }

  /** Asks EMQX to disconnect a client whose jti was revoked. */
  async function kick(api: NonNullable<EmqxHookServerOptions['emqxApi']>, clientId: string, jti: string): Promise<void> {
    const url = new URL(`api/v5/clients/${encodeURIComponent(clientId)}`, api.url.replace(/\/*$/, '/'))
    const authorization = `Basic ${Buffer.from(`${api.apiKey}:${api.apiSecret}`).toString('base64')}`
    try {
      const res = await fetch(url, { method: 'DELETE', headers: { authorization }, signal: AbortSignal.timeout(5000) })
      await res.body?.cancel().catch(() => {})
      log(res.ok || res.status === 404 ? 'info' : 'error', 'EMQX kick after revocation', { client_id: clientId, jti, status: res.status })
    } catch (err) {
      log('error', 'EMQX kick failed', { client_id: clientId, jti, err: err instanceof Error ? err.message : String(err) })
    }
  }

  return {
    listen,
    close: () => close(),
    get follower() {
      return follower
    },
  }
}
