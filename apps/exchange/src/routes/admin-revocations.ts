import { Router } from 'express'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { InvalidRequest, NotFound } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { getBroker } from '../lib/broker-fields.js'
import { listParam, parseBody } from '../lib/params.js'
import { audit } from '../lib/audit.js'

const MAX_JTIS = 1000
const jtiSchema = z.string().min(1).max(128)
const bodySchema = z.object({
  jtis: z.array(jtiSchema).min(1, { message: 'jtis must list at least one jti' }).max(MAX_JTIS).optional(),
}).strict()

/**
 * /admin/brokers/:id/revocations: list, revoke (POST) and unrevoke (DELETE).
 * jtis come as `{jtis: [...]}` or `?jti=a&jti=b`. A jti never issued for the
 * broker is a 404 naming every such jti, and then nothing changes. The store
 * commits before we answer; the store's watch then wakes the streams of
 * every instance (this one included).
 */
export function adminRevocationRoutes(ctx: ExchangeContext): Router {
  const router = Router()

  router.get('/admin/brokers/:id/revocations', async (req: Request<{ id: string }>, res: Response) => {
    await getBroker(ctx.store, req.params.id)
    const list = await ctx.store.revocations.list(req.params.id)
    audit(ctx, res, 'revocations.list', { broker: req.params.id, count: list.length })
    res.json(list.map(({ jti, revokedAt, expiresAt }) => ({ jti, revokedAt, expiresAt })))
  })

  router.post('/admin/brokers/:id/revocations', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    const jtis = await knownJtis(ctx, broker, req)
    const change = await ctx.store.revocations.revoke(broker, jtis, ctx.now())
    ctx.metrics.revocations('revoke', change.changed.length)
    audit(ctx, res, 'revocations.revoke', { broker, jtis, changed: change.changed, revision: change.revision })
    res.json({ revision: change.revision, revoked: change.changed })
  })

  router.delete('/admin/brokers/:id/revocations', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    const jtis = await knownJtis(ctx, broker, req)
    const change = await ctx.store.revocations.unrevoke(broker, jtis, ctx.now())
    ctx.metrics.revocations('unrevoke', change.changed.length)
    audit(ctx, res, 'revocations.unrevoke', { broker, jtis, changed: change.changed, revision: change.revision })
    res.json({ revision: change.revision, unrevoked: change.changed })
  })

  return router
}

/** The requested jtis (deduplicated), all issued for `broker`, else NotFound listing the unknown ones. */
async function knownJtis(ctx: ExchangeContext, broker: string, req: Request): Promise<string[]> {
  const fromBody = parseBody(bodySchema, req.body).jtis
  const fromQuery = listParam(req.query, 'jti')
  if (fromBody && fromQuery.length > 0) throw new InvalidRequest('give jtis in the body or as ?jti=, not both')
  const requested = [...new Set(fromBody ?? fromQuery)]
  if (requested.length === 0) throw new InvalidRequest('jtis must list at least one jti')
  if (requested.length > MAX_JTIS || !requested.every((j) => jtiSchema.safeParse(j).success)) {
    throw new InvalidRequest(`jtis must list 1 to ${MAX_JTIS} jtis of 1 to 128 characters`)
  }
  const unknown: string[] = []
  for (const jti of requested) {
    if (!(await ctx.store.credentials.get(broker, jti))) unknown.push(jti)
  }
  if (unknown.length > 0) throw new NotFound(`unknown jti for broker "${broker}": ${unknown.join(', ')}`)
  return requested
}
