import { createHash } from 'node:crypto'
import { Router } from 'express'
import type { Request, Response } from 'express'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'

/** How long brokers may cache the JWKS, seconds (short: a new key must show up soon). */
const JWKS_MAX_AGE = 300

/** GET /.well-known/jwks.json and /.well-known/oauth-authorization-server (RFC 8414). */
export function wellKnownRoutes(ctx: ExchangeContext): Router {
  const router = Router()

  // Our own ETag check: express's `req.fresh` ignores If-None-Match when the request says
  // Cache-Control: no-cache, which fetch() adds to every conditional request.
  router.get('/.well-known/jwks.json', async (req: Request, res: Response) => {
    const body = JSON.stringify(await ctx.signingKeys().jwks())
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    res.set({ 'Cache-Control': `public, max-age=${JWKS_MAX_AGE}`, ETag: etag })
    const match = req.get('if-none-match')?.split(',').map((t) => t.trim().replace(/^W\//, ''))
    if (match?.includes(etag) || match?.includes('*')) {
      res.status(304).end()
      return
    }
    res.type('application/json').send(body)
  })

  router.get('/.well-known/oauth-authorization-server', (_req: Request, res: Response) => {
    const issuer = ctx.issuer()
    res.set('Cache-Control', `public, max-age=${JWKS_MAX_AGE}`)
    res.json({
      issuer,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      // REQUIRED by RFC 8414 §2 even without an authorization endpoint (there is
      // none here). `none` (OAuth 2.0 Multiple Response Type Encoding Practices
      // §4) is the response type that issues nothing; validators such as
      // authlib read an empty list as a missing field.
      response_types_supported: ['none'],
      grant_types_supported: [TOKEN_EXCHANGE_GRANT],
      token_endpoint_auth_methods_supported: ['none'],
      subject_token_types_supported: [TOKEN_TYPE.idToken, TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt],
      issued_token_types_supported: [TOKEN_TYPE.jwt],
      broker_token_signing_alg_values_supported: ['EdDSA', 'ES256', 'RS256', 'HS256'],
      revocation_feed_template: `${issuer}/brokers/{broker}/revocations`,
    })
  })

  return router
}
