import { Router } from 'express'
import type { Request, Response } from 'express'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'

/** How long brokers may cache the JWKS, seconds (short: a new key must show up soon). */
const JWKS_MAX_AGE = 300

/** GET /.well-known/jwks.json and /.well-known/oauth-authorization-server (RFC 8414). */
export function wellKnownRoutes(ctx: ExchangeContext): Router {
  const router = Router()

  router.get('/.well-known/jwks.json', (_req: Request, res: Response) => {
    res.set('Cache-Control', `public, max-age=${JWKS_MAX_AGE}`)
    res.json(ctx.signingKeys().jwks)
  })

  router.get('/.well-known/oauth-authorization-server', (_req: Request, res: Response) => {
    const issuer = ctx.issuer()
    res.set('Cache-Control', `public, max-age=${JWKS_MAX_AGE}`)
    res.json({
      issuer,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: [TOKEN_EXCHANGE_GRANT],
      token_endpoint_auth_methods_supported: ['none'],
      subject_token_types_supported: [TOKEN_TYPE.idToken, TOKEN_TYPE.jwt],
      issued_token_types_supported: [TOKEN_TYPE.jwt],
      revocation_feed_template: `${issuer}/brokers/{broker}/revocations`,
    })
  })

  return router
}
