import { Router, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { z } from 'zod'
import { signingKeyView, type Store } from '@mqtt-oidc/core'
import { DEFAULT_ROTATION_LEAD_SECONDS, rotateSigningKeys } from '../rotate-signing-keys.js'
import { parseAdminBody } from './parse-admin-body.js'
import { idpAdminName } from './require-idp-admin.js'

export interface AdminKeysDeps {
  readonly store: Store
  readonly logger: Logger
}

/** Longest lead of a rotation: a year, in seconds. */
const MAX_LEAD_SECONDS = 365 * 86400

const rotateSchema = z
  .object({
    leadTime: z
      .number({ error: 'leadTime must be a number of seconds' })
      .int('leadTime must be a whole number of seconds')
      .min(0, 'leadTime must be 0 or more seconds')
      .max(MAX_LEAD_SECONDS, `leadTime must be at most ${MAX_LEAD_SECONDS} seconds (a year)`)
      .optional(),
  })
  .strict()

/**
 * /admin/keys: the IdP's signing keys (the CLI's `idp keys` commands).
 *
 *   GET  /admin/keys          list: kid, alg, createdAt (when it signs), retiredAt; never key material
 *   POST /admin/keys/rotate   {leadTime?: seconds, default 600}: a new key per algorithm, published now,
 *                             signing after leadTime, when the current ones retire → {added, retired, activatesAt}
 *
 * Every IdP instance on the store picks a rotation up within its key reload
 * period (a minute by default), this one included, without a restart.
 */
export function adminKeysRoutes(deps: AdminKeysDeps): Router {
  const router = Router()

  router.get('/keys', async (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json((await deps.store.keys.list('idp')).map(signingKeyView))
  })

  router.post('/keys/rotate', async (req: Request, res: Response) => {
    const input = parseAdminBody(rotateSchema, req.body)
    const rotation = await rotateSigningKeys(deps.store, { leadSeconds: input.leadTime ?? DEFAULT_ROTATION_LEAD_SECONDS })
    deps.logger.info({ audit: true, who: idpAdminName(res), action: 'signing keys rotated', ...rotation }, 'admin: signing keys rotated')
    res.set('Cache-Control', 'no-store').json(rotation)
  })

  return router
}
