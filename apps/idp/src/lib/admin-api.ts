import express, { type NextFunction, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { NotFound, bodyParserRefusal, refusalFor, type Store } from '@mqtt-oidc/core'
import type { JWK } from 'jose'
import type { ClientMetadata, Provider } from 'oidc-provider'
import { adminAccountsRoutes } from './admin-accounts-routes.js'
import { adminClientsRoutes } from './admin-clients-routes.js'
import { adminKeysRoutes } from './admin-keys-routes.js'
import { adminRegistrationTokenRoutes } from './admin-registration-token-routes.js'
import { idpAdminName, requireIdpAdmin } from './require-idp-admin.js'

export interface AdminApiDeps {
  readonly issuer: string
  /** The IdP's current keys: admin access tokens are verified with them. */
  readonly jwks: readonly JWK[]
  readonly provider: Provider
  readonly store: Store
  readonly builtInClients: readonly ClientMetadata[]
  readonly logger: Logger
  /** Whether RFC 7591 registration is on (initial access tokens are made only then). */
  readonly dynamicRegistration: boolean
}

/**
 * The IdP's admin HTTP API, mounted at /admin: accounts, signing keys, OAuth
 * clients and registration tokens. The same admin OAuth as the exchange's
 * (requireIdpAdmin), JSON in and out, errors as `{error, error_description}`
 * with the status of core's refusal table.
 */
export function createAdminApi(deps: AdminApiDeps): express.Router {
  const router = express.Router()
  router.use(requireIdpAdmin(deps.issuer, deps.jwks))
  router.use(express.json({ limit: '64kb' }))
  router.use(adminAccountsRoutes({ store: deps.store, logger: deps.logger }))
  router.use(adminKeysRoutes({ store: deps.store, logger: deps.logger }))
  router.use(adminClientsRoutes({ store: deps.store, provider: deps.provider, builtIn: deps.builtInClients, logger: deps.logger }))
  router.use(adminRegistrationTokenRoutes({ provider: deps.provider, enabled: deps.dynamicRegistration, logger: deps.logger }))
  router.use((req: Request) => {
    throw new NotFound(`no route for ${req.method} /admin${req.path}`)
  })
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = bodyParserRefusal(err) ?? err
    const refusal = refusalFor(error)
    const known = refusal.code !== 'ERR_SERVER' && error instanceof Error
    const description = known ? error.message : 'the server could not complete the request'
    if (!known) deps.logger.error({ err, method: req.method, path: `/admin${req.path}` }, 'admin request failed')
    else
      deps.logger.info(
        { audit: true, who: idpAdminName(res), action: `${req.method} /admin${req.path}`, refused: refusal.code, reason: description },
        'admin: refused',
      )
    res.status(refusal.httpStatus).set('Cache-Control', 'no-store').json({ error: refusal.oauthError, error_description: description })
  })
  return router
}
