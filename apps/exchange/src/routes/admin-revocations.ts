import { Router } from 'express'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { InvalidRequest, NotFound } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { getBroker } from '../lib/broker-fields.js'
import { listParam, parseBody } from '../lib/params.js'
import { audit } from '../lib/audit.js'

const MAX_JTIS = 1000
const MAX_CLIENT_IDS = 100
/** A page of live credentials read while collecting a client id's jtis. */
const CLIENT_ID_PAGE = 1000
const jtiSchema = z.string().min(1).max(128)
const bodySchema = z.object({
  jtis: z.array(jtiSchema).min(1, { message: 'jtis must list at least one jti' }).max(MAX_JTIS).optional(),
  clientIds: z.array(z.string().min(1).max(256)).min(1, { message: 'clientIds must list at least one client id' })
    .max(MAX_CLIENT_IDS, { message: `clientIds must list at most ${MAX_CLIENT_IDS} client ids` }).optional(),
}).strict()

/**
 * /admin/brokers/:id/revocations: list, revoke (POST) and unrevoke (DELETE).
 * jtis come as `{jtis: [...]}` or `?jti=a&jti=b`. A jti never issued for the
 * broker is a 404 naming every such jti, and then nothing changes. POST also
 * takes `{clientIds: [...]}` (with or without jtis): every live credential of
 * those client ids (not expired, not yet revoked) is revoked in the same
 * change, so an operator can cut a device off by the name they know it by; a
 * client id the broker has no credential record of is a 404 like an unknown
 * jti. The answer lists the jtis it revoked. The store
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
    const { jtis: listed, clientIds } = parseBody(bodySchema, req.body)
    const byJti = clientIds && !listed && listParam(req.query, 'jti').length === 0 ? [] : await knownJtis(ctx, broker, req)
    const jtis = clientIds ? [...new Set([...byJti, ...await liveJtisOf(ctx, broker, clientIds)])] : byJti
    const change = jtis.length === 0
      ? { revision: await ctx.store.revocations.revision(broker), changed: [] }
      : await ctx.store.revocations.revoke(broker, jtis, ctx.now())
    ctx.metrics.revocations('revoke', change.changed.length)
    audit(ctx, res, 'revocations.revoke', { broker, jtis, ...(clientIds ? { clientIds } : {}), changed: change.changed, revision: change.revision })
    res.json({ revision: change.revision, revoked: change.changed })
  })

  router.delete('/admin/brokers/:id/revocations', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    if (parseBody(bodySchema, req.body).clientIds) throw new InvalidRequest('clientIds is for revoking; lift revocations by jti')
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

/** The jtis of every live credential of `clientIds` on `broker`, else NotFound naming the client ids it has no record of. */
async function liveJtisOf(ctx: ExchangeContext, broker: string, clientIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(clientIds)]
  const unknown: string[] = []
  for (const clientId of unique) {
    if ((await ctx.store.credentials.search(broker, { clientId, limit: 1 })).length === 0) unknown.push(clientId)
  }
  if (unknown.length > 0) throw new NotFound(`no credential of broker "${broker}" has client id: ${unknown.join(', ')}`)
  const now = ctx.now()
  const jtis: string[] = []
  for (const clientId of unique) {
    let after: { issuedAt: number; jti: string } | undefined
    for (;;) {
      // Live: not revoked, and not expired (exp > now; a credential without expiry always is).
      const page = await ctx.store.credentials.search(broker, { clientId, revoked: false, expiresFrom: now + 1, after, limit: CLIENT_ID_PAGE })
      jtis.push(...page.map((c) => c.jti))
      const last = page[page.length - 1]
      if (page.length < CLIENT_ID_PAGE || !last) break
      after = { issuedAt: last.issuedAt, jti: last.jti }
    }
  }
  return jtis
}
