import { Router } from 'express'
import type { Request, Response } from 'express'
import type { AdminIdentity } from '../require-admin.js'

/**
 * GET /admin/whoami: who the access token says is acting (`sub`,
 * `username` of a person, `clientId`), on which brokers (`all` or a list),
 * and until when (`expiresAt`). Any admin token answers; the console asks
 * it to learn whether a person who signed in is an admin.
 */
export function adminWhoamiRoutes(): Router {
  const router = Router()
  router.get('/admin/whoami', (_req: Request, res: Response) => {
    const admin = res.locals.admin as AdminIdentity
    res.set('Cache-Control', 'no-store').json({
      sub: admin.sub ?? null,
      username: admin.username ?? null,
      clientId: admin.clientId ?? null,
      brokers: admin.brokers,
      expiresAt: admin.expiresAt ?? null,
    })
  })
  return router
}
