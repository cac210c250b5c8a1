import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { Unauthenticated } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'
import { checkFeedCredential } from './lib/feed-credentials.js'

const REALM = 'Bearer realm="mqtt-oidc-feed"'

/**
 * Express middleware for `/brokers/:id/revocations[/stream]`: the request
 * must carry `Authorization: Bearer <the feed credential of broker :id>`.
 * Missing, malformed, wrong, another broker's, or for a broker that does
 * not exist: one answer (401 invalid_token), so the feed tells a stranger
 * nothing, not even which brokers exist. On success `res.locals.feedCredential`
 * holds the credential's digest (streams opened with it end when it is rotated).
 */
export function requireFeedCredential(store: Store): RequestHandler<{ id: string }> {
  return async (req: Request<{ id: string }>, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? ''
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim())
    const digest = m?.[1] && req.params.id.length <= 63 ? await checkFeedCredential(store, req.params.id, m[1]) : undefined
    if (digest === undefined) {
      res.set('WWW-Authenticate', `${REALM}, error="invalid_token"`)
      throw new Unauthenticated('a valid feed credential for this broker is required')
    }
    res.locals.feedCredential = digest
    next()
  }
}
