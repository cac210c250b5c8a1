import { Router } from 'express'
import type { Request, Response } from 'express'
import { Unauthenticated } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { verifyOwnBrokerToken } from '../lib/verify-own-broker-token.js'

const REALM = 'Bearer realm="mqtt-oidc-token-status"'

/**
 * GET /brokers/:id/token-status with `Authorization: Bearer <a broker token
 * for :id>`: whether that one token is revoked, `{broker, jti, revoked}`.
 * A client refused with "bad user name or password" (MQTT 3.1.1 has no
 * finer code) learns whether its token was revoked, without reading the
 * broker's feed: a token holder learns about its own jti only. Anything but
 * a token we issued for this broker gets the same 401.
 */
export function tokenStatusRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  router.get('/brokers/:id/token-status', async (req: Request<{ id: string }>, res: Response) => {
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec((req.get('authorization') ?? '').trim())
    const jti = m?.[1] && m[1].length <= 8192 ? await verifyOwnBrokerToken(ctx, req.params.id, m[1]) : undefined
    if (jti === undefined) {
      res.set('WWW-Authenticate', `${REALM}, error="invalid_token"`)
      throw new Unauthenticated('present a broker token this exchange issued for this broker')
    }
    res.set('Cache-Control', 'no-store').json({ broker: req.params.id, jti, revoked: await ctx.store.revocations.isRevoked(req.params.id, jti) })
  })
  return router
}
