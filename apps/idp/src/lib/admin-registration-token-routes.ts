import { Router, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { z } from 'zod'
import { InvalidRequest } from '@mqtt-oidc/core'
import type { Provider } from 'oidc-provider'
import { REGISTRATION_POLICY } from './registration-policy.js'
import { idpAdminName } from './require-idp-admin.js'

/** How long an initial access token lasts unless asked otherwise, seconds. */
export const DEFAULT_REGISTRATION_TOKEN_TTL = 3600
/** The longest one may last, seconds (30 days). */
const MAX_REGISTRATION_TOKEN_TTL = 30 * 24 * 3600

const bodySchema = z.object({ expires_in: z.number().int().min(60).max(MAX_REGISTRATION_TOKEN_TTL).optional() }).strict()

export interface AdminRegistrationTokenDeps {
  readonly provider: Provider
  /** RFC 7591 registration is on. */
  readonly enabled: boolean
  readonly logger: Logger
}

/**
 * POST /admin/registration-tokens: an RFC 7591 initial access token (shown
 * once) with which a client registers itself at /reg, under the admin API's
 * rules. It may register any number of clients until it expires.
 */
export function adminRegistrationTokenRoutes(deps: AdminRegistrationTokenDeps): Router {
  const router = Router()
  router.post('/registration-tokens', async (req: Request, res: Response) => {
    if (!deps.enabled) throw new InvalidRequest('dynamic client registration is off (MQTT_OIDC_IDP_DYNAMIC_REGISTRATION=true turns it on)')
    const parsed = bodySchema.safeParse(req.body ?? {})
    if (!parsed.success) throw new InvalidRequest(`expires_in: seconds from 60 to ${MAX_REGISTRATION_TOKEN_TTL}; no other field`)
    const expiresIn = parsed.data.expires_in ?? DEFAULT_REGISTRATION_TOKEN_TTL
    const token = await new deps.provider.InitialAccessToken({ expiresIn, policies: [REGISTRATION_POLICY] }).save()
    deps.logger.info({ audit: true, who: idpAdminName(res), action: 'registration token made', expires_in: expiresIn }, 'admin: registration token made')
    res.status(201).set('Cache-Control', 'no-store').json({ initial_access_token: token, expires_in: expiresIn })
  })
  return router
}
