import { Router } from 'express'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { Conflict, InvalidRequest, NO_EXPIRATION, brokerIdSchema } from '@mqtt-oidc/core'
import type { Broker } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { aclSchema, brokerUrlSchema, expirationSchema, getBroker } from '../lib/broker-fields.js'
import { parseBody } from '../lib/params.js'
import { audit } from '../lib/audit.js'

const createSchema = z.object({
  id: brokerIdSchema,
  expiration: expirationSchema.optional(),
  acl: aclSchema.optional(),
  url: brokerUrlSchema.optional(),
}).strict()

const patchSchema = z.object({
  id: z.string().optional(),
  expiration: expirationSchema.optional(),
  acl: aclSchema.optional(),
  url: brokerUrlSchema.optional(),
}).strict()

/** Broker CRUD under /admin/brokers (mounted behind requireAdmin). */
export function adminBrokerRoutes(ctx: ExchangeContext): Router {
  const router = Router()

  router.get('/admin/brokers', async (_req: Request, res: Response) => {
    const brokers = await ctx.store.brokers.list()
    audit(ctx, res, 'broker.list', { count: brokers.length })
    res.json(brokers)
  })

  router.post('/admin/brokers', async (req: Request, res: Response) => {
    const body = parseBody(createSchema, req.body)
    if (await ctx.store.brokers.get(body.id)) throw new Conflict(`broker "${body.id}" already exists`)
    const now = ctx.now()
    const broker: Broker = {
      id: body.id,
      expiration: toBrokerExpiration(body.expiration),
      acl: body.acl ?? ctx.defaultExchangeAcl,
      url: body.url ?? null,
      createdAt: now,
      updatedAt: now,
    }
    await ctx.store.brokers.create(broker)
    auditBroker(ctx, res, 'broker.create', broker)
    res.status(201).json(broker)
  })

  router.get('/admin/brokers/:id', async (req: Request<{ id: string }>, res: Response) => {
    const broker = await getBroker(ctx.store, req.params.id)
    audit(ctx, res, 'broker.get', { broker: broker.id })
    res.json(broker)
  })

  router.patch('/admin/brokers/:id', async (req: Request<{ id: string }>, res: Response) => {
    const body = parseBody(patchSchema, req.body)
    if (body.id !== undefined && body.id !== req.params.id) throw new InvalidRequest('a broker id cannot be changed')
    await getBroker(ctx.store, req.params.id)
    const patch: Partial<Omit<Broker, 'id' | 'createdAt'>> = {
      ...(body.expiration !== undefined ? { expiration: toBrokerExpiration(body.expiration) } : {}),
      ...(body.acl !== undefined ? { acl: body.acl } : {}),
      ...(body.url !== undefined ? { url: body.url } : {}),
      updatedAt: ctx.now(),
    }
    const broker = await ctx.store.brokers.update(req.params.id, patch)
    auditBroker(ctx, res, 'broker.update', broker)
    res.json(broker)
  })

  router.delete('/admin/brokers/:id', async (req: Request<{ id: string }>, res: Response) => {
    await getBroker(ctx.store, req.params.id)
    await ctx.store.brokers.delete(req.params.id)
    audit(ctx, res, 'broker.delete', { broker: req.params.id })
    res.json({ id: req.params.id, deleted: true })
  })

  return router
}

/** A broker's expiration: -1 (or null) means none. */
function toBrokerExpiration(value: number | undefined): number | null {
  return value === undefined || value === NO_EXPIRATION ? null : value
}

function auditBroker(ctx: ExchangeContext, res: Response, action: string, broker: Broker): void {
  audit(ctx, res, action, { broker: broker.id, expiration: broker.expiration, acl: broker.acl, url: broker.url })
}
