import { Router } from 'express'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { Conflict, DEFAULT_BROKER_POLICY, InvalidRequest, NO_EXPIRATION, brokerIdSchema } from '@mqtt-oidc/core'
import type { Broker, NewBroker } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { aclSchema, brokerUrlSchema, expirationSchema, getBroker } from '../lib/broker-fields.js'
import { booleanParam, parseBody, singleParam } from '../lib/params.js'
import { audit } from '../lib/audit.js'
import { mayActOn, requireBrokerScope } from '../require-admin.js'
import { mergeBrokerPolicy, policyPatchSchema } from '../lib/broker-policy.js'

const createSchema = z.object({
  id: brokerIdSchema,
  expiration: expirationSchema.optional(),
  acl: aclSchema.optional(),
  url: brokerUrlSchema.optional(),
  policy: policyPatchSchema.optional(),
}).strict()

const patchSchema = z.object({
  id: z.string().optional(),
  expiration: expirationSchema.optional(),
  acl: aclSchema.optional(),
  url: brokerUrlSchema.optional(),
  policy: policyPatchSchema.optional(),
}).strict()

/** Broker CRUD under /admin/brokers (mounted behind requireAdmin). */
export function adminBrokerRoutes(ctx: ExchangeContext): Router {
  const router = Router()

  router.get('/admin/brokers', async (_req: Request, res: Response) => {
    const brokers = (await ctx.store.brokers.list()).filter((b) => mayActOn(res, b.id))
    audit(ctx, res, 'broker.list', { count: brokers.length })
    res.json(brokers)
  })

  router.post('/admin/brokers', async (req: Request, res: Response) => {
    requireBrokerScope(res, undefined)
    const body = parseBody(createSchema, req.body)
    if (await ctx.store.brokers.get(body.id)) throw new Conflict(`broker "${body.id}" already exists`)
    const now = ctx.now()
    const broker: Broker = {
      id: body.id,
      expiration: toBrokerExpiration(body.expiration),
      acl: body.acl ?? ctx.defaultExchangeAcl,
      url: body.url ?? null,
      policy: body.policy ? mergeBrokerPolicy(DEFAULT_BROKER_POLICY, body.policy) : DEFAULT_BROKER_POLICY,
      createdAt: now,
      updatedAt: now,
    }
    await ctx.store.brokers.create(broker satisfies NewBroker)
    const hmacSecret = broker.policy.alg === 'HS256' ? await ctx.signingKeys().createHmacSecret(broker.id) : undefined
    ctx.brokers.invalidate(broker.id)
    auditBroker(ctx, res, 'broker.create', broker)
    res.status(201).json({ ...broker, ...(hmacSecret ? { hmacSecret } : {}) })
  })

  router.get('/admin/brokers/:id', async (req: Request<{ id: string }>, res: Response) => {
    const broker = await getBroker(ctx.store, req.params.id)
    audit(ctx, res, 'broker.get', { broker: broker.id })
    res.json(broker)
  })

  router.patch('/admin/brokers/:id', async (req: Request<{ id: string }>, res: Response) => {
    const body = parseBody(patchSchema, req.body)
    if (body.id !== undefined && body.id !== req.params.id) throw new InvalidRequest('a broker id cannot be changed')
    const before = (await getBroker(ctx.store, req.params.id)).policy
    const patch: Partial<Omit<Broker, 'id' | 'createdAt'>> = {
      ...(body.expiration !== undefined ? { expiration: toBrokerExpiration(body.expiration) } : {}),
      ...(body.acl !== undefined ? { acl: body.acl } : {}),
      ...(body.url !== undefined ? { url: body.url } : {}),
      ...(body.policy !== undefined ? { policy: mergeBrokerPolicy(before, body.policy) } : {}),
      updatedAt: ctx.now(),
    }
    const broker = await ctx.store.brokers.update(req.params.id, patch)
    const { policy } = broker
    // Switching to HS256 makes the broker's secret, shown in this answer only.
    const hmacSecret = policy.alg === 'HS256' && before.alg !== 'HS256' ? await ctx.signingKeys().createHmacSecret(broker.id) : undefined
    if (policy.alg !== 'HS256' && before.alg === 'HS256') await ctx.signingKeys().retireHmac(broker.id)
    ctx.brokers.invalidate(broker.id)
    auditBroker(ctx, res, 'broker.update', broker)
    res.json({ ...broker, ...(hmacSecret ? { hmacSecret } : {}) })
  })

  // Deleting a broker revokes its live credentials (in the same transaction): its sessions close, and
  // its tokens stay refused until they expire even when a broker of the same id is created again.
  // With any live credential that takes `?force=true`, so nobody cuts a fleet off by accident.
  router.delete('/admin/brokers/:id', async (req: Request<{ id: string }>, res: Response) => {
    const force = booleanParam(singleParam(req.query, 'force'), 'force')
    const id = (await getBroker(ctx.store, req.params.id)).id
    const now = ctx.now()
    const live = force ? 0 : await ctx.store.credentials.countLive(id, now)
    if (live > 0) {
      throw new Conflict(`broker "${id}" has ${live} live credential${live === 1 ? '' : 's'} (not expired, not revoked): deleting it revokes ` +
        `${live === 1 ? 'it' : 'them all'}, which closes their sessions, and they stay refused until they expire, even if a broker "${id}" ` +
        'is created again. Nothing was changed; confirm with force.')
    }
    const change = await ctx.store.brokers.delete(id, now)
    ctx.metrics.revocations('revoke', change.changed.length)
    ctx.brokers.invalidate(id)
    await ctx.signingKeys().retireHmac(id)
    audit(ctx, res, 'broker.delete', { broker: id, force, revoked: change.changed.length, revision: change.revision })
    res.json({ id, deleted: true, revoked: change.changed.length })
  })

  // A new HS256 secret for the broker, shown in this answer only; the old one stops signing at once.
  router.post('/admin/brokers/:id/hmac-secret', async (req: Request<{ id: string }>, res: Response) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
    const broker = await getBroker(ctx.store, req.params.id)
    if (broker.policy.alg !== 'HS256') throw new InvalidRequest(`broker "${broker.id}" does not use HS256`)
    const hmacSecret = await ctx.signingKeys().createHmacSecret(broker.id)
    audit(ctx, res, 'broker.hmac-secret', { broker: broker.id })
    res.json({ id: broker.id, hmacSecret })
  })

  return router
}

/** A broker's expiration: -1 (or null) means none. */
function toBrokerExpiration(value: number | undefined): number | null {
  return value === undefined || value === NO_EXPIRATION ? null : value
}

function auditBroker(ctx: ExchangeContext, res: Response, action: string, broker: Broker): void {
  audit(ctx, res, action, { broker: broker.id, expiration: broker.expiration, acl: broker.acl, url: broker.url, policy: broker.policy })
}
