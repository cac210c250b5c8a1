import { Router } from 'express'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { ASYMMETRIC_ALGS } from '../lib/signing-keys.js'
import type { ExchangeContext } from '../lib/context.js'
import { expirationSchema } from '../lib/broker-fields.js'
import { parseBody } from '../lib/params.js'
import { audit } from '../lib/audit.js'
import { requireBrokerScope } from '../require-admin.js'

const rotateSchema = z.object({
  alg: z.enum(ASYMMETRIC_ALGS).optional(),
  /** Seconds or a duration ("10m"): how long the new key is published before it signs. */
  leadTime: z.union([z.number().int().min(0), expirationSchema.refine((v) => v > 0, 'leadTime must be a duration, or seconds (0 or more)')]).optional(),
}).strict()

/**
 * POST /admin/keys/rotate (unrestricted admins only): publishes a new key in
 * the JWKS now; it starts signing after the lead time, when the current key
 * retires. The retired key stays in the JWKS until its last token expires.
 * GET /admin/keys lists the keys (public parts and dates only).
 */
export function adminKeyRoutes(ctx: ExchangeContext): Router {
  const router = Router()

  router.post('/admin/keys/rotate', async (req: Request, res: Response) => {
    requireBrokerScope(res, undefined)
    const body = parseBody(rotateSchema, req.body)
    const result = await ctx.signingKeys().rotate(body.alg ?? 'EdDSA', body.leadTime ?? ctx.keyLeadTime)
    audit(ctx, res, 'keys.rotate', { ...result })
    res.json(result)
  })

  router.get('/admin/keys', async (_req: Request, res: Response) => {
    requireBrokerScope(res, undefined)
    const published = new Set((await ctx.signingKeys().jwks()).keys.map((k) => k.kid))
    const list = ctx.signingKeys().records().filter((r) => r.alg !== 'HS256').map((r) => ({
      kid: r.kid, alg: r.alg, signsFrom: r.createdAt, retiredAt: r.retiredAt, published: published.has(r.kid),
    }))
    audit(ctx, res, 'keys.list', { count: list.length })
    res.json(list)
  })

  return router
}
