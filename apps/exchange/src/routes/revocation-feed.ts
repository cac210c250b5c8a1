import { Router } from 'express'
import type { Request, Response } from 'express'
import { InvalidRequest } from '@mqtt-oidc/core'
import type { RevocationEvent } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { getBroker } from '../lib/broker-fields.js'
import type { FeedStreams } from '../lib/feed-streams.js'
import { singleParam } from '../lib/params.js'
import { requireFeedCredential } from '../require-feed-credential.js'

/** Most events one poll answer or one stream read carries; the rest follow. */
const EVENT_PAGE = 1000

/**
 * The read-only revocation feed brokers follow, each with its own feed
 * credential (`Authorization: Bearer`, see requireFeedCredential): a
 * snapshot, a `?since=N` poll, and an SSE stream resumable with
 * `Last-Event-ID` or `?since=N`, capped per broker and in all.
 */
export function revocationFeedRoutes(ctx: ExchangeContext, streams: FeedStreams): Router {
  const router = Router()
  router.use('/brokers/:id/revocations', requireFeedCredential(ctx.store))

  router.get('/brokers/:id/revocations', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    res.set('Cache-Control', 'no-store')
    const since = revisionParam(singleParam(req.query, 'since'), 'since')
    if (since !== undefined) {
      const current = await ctx.store.revocations.revision(broker)
      const events = await ctx.store.revocations.eventsSince(broker, since, EVENT_PAGE)
      // A truncated page answers with its last revision, so `since=<revision>` continues it.
      // A `since` beyond the current revision gets the current one back: the caller should resync from a snapshot.
      const revision = events.length === EVENT_PAGE ? events[events.length - 1]!.revision : current
      res.json({ broker, revision, events: events.map(({ revision: r, jti, action, expiresAt }) => ({ revision: r, jti, action, expiresAt })) })
      return
    }
    // Revision first: a change in between shows in the list too, and replaying it is harmless.
    const revision = await ctx.store.revocations.revision(broker)
    const list = await ctx.store.revocations.list(broker)
    res.json({ broker, revision, revoked: list.map(({ jti, expiresAt }) => ({ jti, expiresAt })) })
  })

  router.get('/brokers/:id/revocations/stream', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    const resume = revisionParam(req.get('last-event-id') || undefined, 'Last-Event-ID') ??
      revisionParam(singleParam(req.query, 'since'), 'since')
    let last = resume ?? await ctx.store.revocations.revision(broker)
    streams.open(res, broker, res.locals.feedCredential as string)
    openStream(res)
    // Never write after end (close() ends streams while a read may be in flight).
    const send = (chunk: string): void => { if (!res.writableEnded && !res.destroyed) res.write(chunk) }
    send(`: connected broker=${broker} revision=${last}\n\n`)

    let pending: Promise<void> = Promise.resolve()
    let closed = false
    const pump = (): void => {
      pending = pending.then(async () => {
        while (!closed && !res.writableEnded) {
          const events = await ctx.store.revocations.eventsSince(broker, last, EVENT_PAGE)
          for (const event of events) send(formatEvent(event))
          if (events.length > 0) last = events[events.length - 1]!.revision
          if (events.length < EVENT_PAGE) break
        }
      }).catch((err: unknown) => {
        ctx.log.error({ err, broker }, 'revocation stream failed')
        if (!res.writableEnded) res.end()
      })
    }
    const unsubscribe = ctx.notifier.subscribe(broker, pump)
    const keepalive = setInterval(() => send(': keepalive\n\n'), ctx.keepaliveMs)
    keepalive.unref()
    res.on('close', () => {
      closed = true
      unsubscribe()
      clearInterval(keepalive)
      streams.closed(res)
      ctx.log.debug({ broker, revision: last }, 'revocation stream closed')
    })
    ctx.log.debug({ broker, revision: last }, 'revocation stream opened')
    pump()
  })

  return router
}

function openStream(res: Response): void {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  })
  res.flushHeaders()
  res.socket?.setNoDelay(true)
}

function formatEvent(event: RevocationEvent): string {
  const data = JSON.stringify({ jti: event.jti, expiresAt: event.expiresAt })
  return `id: ${event.revision}\nevent: ${event.action}\ndata: ${data}\n\n`
}

function revisionParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,15}$/.test(value)) throw new InvalidRequest(`${name} must be a revision number (0 or more)`)
  return Number(value)
}
