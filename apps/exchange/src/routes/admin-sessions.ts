import { Router } from 'express'
import type { Request, Response } from 'express'
import { InvalidRequest, RevocationsUnavailable } from '@mqtt-oidc/core'
import type { ReportedSession, SessionQuery } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { getBroker } from '../lib/broker-fields.js'
import { countParam, singleParam } from '../lib/params.js'
import { audit } from '../lib/audit.js'
import { freshSince } from '../lib/session-freshness.js'
import type { AdminIdentity } from '../require-admin.js'

/** Most sessions one answer (or stream event) lists. */
export const MAX_SESSIONS_LISTED = 1000
const DEFAULT_LISTED = 500

/** Session streams one exchange instance holds open (they are for people watching a console). */
export const MAX_SESSION_STREAMS = 256

/** What the sessions list and its stream say about a broker. */
export interface SessionsView {
  readonly broker: string
  /** Bumped by every reported change. */
  readonly revision: number
  /** How often an idle node reports; one silent for three of these is taken for gone. */
  readonly heartbeatSeconds: number
  readonly nodes: ReadonlyArray<{ readonly node: string; readonly reportedAt: number; readonly sessions: number }>
  /** The stored sessions without the store's keys (broker, connection). */
  readonly sessions: ReadonlyArray<Omit<ReportedSession, 'broker' | 'connection'>>
  /** More sessions matched than `limit`. */
  readonly truncated: boolean
}

/**
 * GET /admin/brokers/:id/sessions: the broker's live MQTT sessions as its
 * nodes report them (client id, username, jti, connected since, token
 * expiry, address), most recently connected first, filtered by `clientId`,
 * `jti`, `search` (a part of either) or `node`, at most `limit` (1..1000,
 * default 500). `/stream` sends the same as SSE `sessions` events: at once,
 * after every reported change, and when a node goes quiet; it ends when the
 * access token expires (reconnect with a fresh one).
 */
export function adminSessionRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  let open = 0

  router.get('/admin/brokers/:id/sessions', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    const view = await sessionsView(ctx, broker, sessionQuery(req.query))
    audit(ctx, res, 'sessions.list', { broker, count: view.sessions.length })
    res.set('Cache-Control', 'no-store').json(view)
  })

  router.get('/admin/brokers/:id/sessions/stream', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    const query = sessionQuery(req.query)
    if (open >= MAX_SESSION_STREAMS) {
      res.set('Retry-After', '10')
      throw new RevocationsUnavailable(`this exchange holds ${MAX_SESSION_STREAMS} session streams already; retry later`)
    }
    open++
    audit(ctx, res, 'sessions.watch', { broker })
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' })
    res.flushHeaders()
    res.socket?.setNoDelay(true)
    let closed = false
    let last = ''
    let running: Promise<void> | undefined
    let again = false
    const send = (chunk: string): void => {
      if (!closed && !res.writableEnded) res.write(chunk)
    }
    // One read at a time; a change signalled meanwhile makes one more read after it.
    const refresh = (): void => {
      if (running) {
        again = true
        return
      }
      running = (async () => {
        do {
          again = false
          const text = JSON.stringify(await sessionsView(ctx, broker, query))
          if (text !== last) send(`event: sessions\ndata: ${text}\n\n`)
          last = text
        } while (again && !closed)
      })()
        .catch((err: unknown) => {
          ctx.log.error({ err, broker }, 'session stream failed')
          res.end()
        })
        .finally(() => {
          running = undefined
        })
    }
    const unsubscribe = ctx.sessions.notifier.subscribe(broker, refresh)
    // A node that stops reporting changes nothing in the store: look again once per heartbeat.
    const tick = setInterval(refresh, ctx.sessions.heartbeatSeconds * 1000)
    const keepalive = setInterval(() => send(': keepalive\n\n'), ctx.keepaliveMs)
    const admin = res.locals.admin as AdminIdentity | undefined
    const expiry = admin?.expiresAt === undefined ? undefined : setTimeout(() => res.end(), Math.max(0, admin.expiresAt * 1000 - Date.now()))
    for (const timer of [tick, keepalive, expiry]) timer?.unref()
    res.on('close', () => {
      closed = true
      open--
      unsubscribe()
      clearInterval(tick)
      clearInterval(keepalive)
      clearTimeout(expiry)
    })
    send('retry: 1000\n\n')
    refresh()
  })

  return router
}

function sessionQuery(source: unknown): Omit<SessionQuery, 'freshSince'> {
  const param = (name: string) => singleParam(source, name)
  const search = param('search')
  if (search !== undefined && search.length > 256) throw new InvalidRequest('search must be at most 256 characters')
  return {
    clientId: param('clientId'),
    jti: param('jti'),
    node: param('node'),
    contains: search,
    limit: countParam(param('limit'), 'limit', 1, MAX_SESSIONS_LISTED, DEFAULT_LISTED),
  }
}

async function sessionsView(ctx: ExchangeContext, broker: string, query: Omit<SessionQuery, 'freshSince'>): Promise<SessionsView> {
  const since = freshSince(ctx, ctx.now())
  const [revision, nodes, sessions] = await Promise.all([
    ctx.store.sessions.revision(broker),
    ctx.store.sessions.nodes(broker, since),
    ctx.store.sessions.list(broker, { ...query, freshSince: since, limit: query.limit + 1 }),
  ])
  return {
    broker,
    revision,
    heartbeatSeconds: ctx.sessions.heartbeatSeconds,
    nodes: nodes.map(({ node, reportedAt, sessions: n }) => ({ node, reportedAt, sessions: n })),
    sessions: sessions.slice(0, query.limit).map((s) => ({
      node: s.node,
      clientId: s.clientId,
      username: s.username,
      jti: s.jti,
      connectedAt: s.connectedAt,
      expiresAt: s.expiresAt,
      remoteAddress: s.remoteAddress,
    })),
    truncated: sessions.length > query.limit,
  }
}
