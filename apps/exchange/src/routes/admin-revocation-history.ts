import { Router } from 'express'
import type { Request, Response } from 'express'
import { InvalidRequest } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { getBroker } from '../lib/broker-fields.js'
import { countParam, singleParam } from '../lib/params.js'
import { audit } from '../lib/audit.js'

const MAX_EVENTS_PER_PAGE = 1000
const DEFAULT_PAGE = 100

/**
 * GET /admin/brokers/:id/revocations/history: the broker's revocation
 * events (revoke and unrevoke, with their revision and time), newest first,
 * `limit` per page (1..1000, default 100); the answer's `next` continues as
 * `before`. Each names the credential's client id while its record is kept.
 * Events of tokens that expired over an hour ago are pruned.
 */
export function adminRevocationHistoryRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  router.get('/admin/brokers/:id/revocations/history', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    const limit = countParam(singleParam(req.query, 'limit'), 'limit', 1, MAX_EVENTS_PER_PAGE, DEFAULT_PAGE)
    const revision = await ctx.store.revocations.revision(broker)
    const before = beforeParam(singleParam(req.query, 'before')) ?? revision + 1
    // Revisions count up by one per event; pruning only leaves gaps, so this window holds at most `limit`.
    const from = Math.max(0, before - 1 - limit)
    const events = (await ctx.store.revocations.eventsSince(broker, from, limit)).filter((e) => e.revision < before).reverse()
    const clientIds = new Map<string, string | null>()
    for (const { jti } of events) {
      if (!clientIds.has(jti)) clientIds.set(jti, (await ctx.store.credentials.get(broker, jti))?.clientId ?? null)
    }
    audit(ctx, res, 'revocations.history', { broker, count: events.length })
    res.set('Cache-Control', 'no-store').json({
      broker,
      revision,
      events: events.map((e) => ({
        revision: e.revision,
        jti: e.jti,
        clientId: clientIds.get(e.jti) ?? null,
        action: e.action,
        at: e.at,
        expiresAt: e.expiresAt,
      })),
      next: from > 0 ? String(from + 1) : null,
    })
  })
  return router
}

function beforeParam(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,15}$/.test(value)) throw new InvalidRequest('before must be a revision number')
  return Number(value)
}
