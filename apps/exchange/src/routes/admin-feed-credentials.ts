import { Router } from 'express'
import type { Request, Response } from 'express'
import { getBroker } from '../lib/broker-fields.js'
import { audit } from '../lib/audit.js'
import type { ExchangeContext } from '../lib/context.js'
import { issueFeedCredential } from '../lib/feed-credentials.js'
import type { FeedStreams } from '../lib/feed-streams.js'

/**
 * POST /admin/brokers/:id/feed-credential: issues the broker's revocation-feed
 * credential, shown once in the answer; the previous one stops working at
 * once and the streams opened with it are ended (a rotated-out credential
 * reads nothing more). Mounted behind requireAdmin and the broker scope check.
 */
export function adminFeedCredentialRoutes(ctx: ExchangeContext, streams: FeedStreams): Router {
  const router = Router()
  router.post('/admin/brokers/:id/feed-credential', async (req: Request<{ id: string }>, res: Response) => {
    const broker = await getBroker(ctx.store, req.params.id)
    const { secret, digest } = await issueFeedCredential(ctx.store, broker, ctx.now())
    const ended = streams.endOthers(broker.id, digest)
    audit(ctx, res, 'broker.feed-credential', { broker: broker.id, streams_ended: ended })
    res.status(201).set('Cache-Control', 'no-store').json({ broker: broker.id, feedCredential: secret })
  })
  return router
}
