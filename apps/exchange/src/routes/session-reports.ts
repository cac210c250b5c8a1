import express, { Router } from 'express'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { Conflict, TooManyRequests } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { parseBody } from '../lib/params.js'
import { requireFeedCredential } from '../require-feed-credential.js'
import { freshSince } from '../lib/session-freshness.js'

/** Most sessions one report may carry (connected and disconnected together); a node sends more in several. */
export const MAX_SESSIONS_PER_REPORT = 500

const connectionId = z.string().min(1).max(128)
const sessionSchema = z
  .object({
    connection: connectionId,
    clientId: z.string().min(1).max(1024),
    username: z.string().max(1024).nullable(),
    jti: z.string().min(1).max(128),
    connectedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    expiresAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
    remoteAddress: z.string().max(128).nullable(),
  })
  .strict()
const reportSchema = z
  .object({
    node: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'node must be 1 to 128 printable ASCII characters'),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    reset: z.boolean().default(false),
    connected: z.array(sessionSchema).default([]),
    disconnected: z.array(connectionId).default([]),
  })
  .strict()
  .refine((r) => r.connected.length + r.disconnected.length <= MAX_SESSIONS_PER_REPORT, {
    message: `a report carries at most ${MAX_SESSIONS_PER_REPORT} sessions (connected and disconnected); send the rest in the next one`,
  })

/**
 * POST /brokers/:id/sessions: a broker node reports the sessions that
 * started and ended since its last report (or, with `reset`, everything it
 * holds), with the broker's feed credential, so it can write its own
 * broker's sessions only. `seq` counts its reports; one out of sequence is
 * refused (409) and the node resends all it holds with `reset`. A broker
 * over its node or session cap gets 429 and nothing is written. The answer
 * says how often to report when nothing changes (`heartbeatSeconds`): a
 * node silent for three of those is taken for gone.
 */
export function sessionReportRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  router.use('/brokers/:id/sessions', requireFeedCredential(ctx.store))
  // Its own body limit: a report of MAX_SESSIONS_PER_REPORT long client ids outgrows the admin API's.
  router.post('/brokers/:id/sessions', express.json({ limit: '1mb' }), async (req: Request<{ id: string }>, res: Response) => {
    const body = parseBody(reportSchema, req.body)
    const broker = req.params.id
    const { heartbeatSeconds, maxNodes, maxSessions } = ctx.sessions
    const now = ctx.now()
    const outcome = await ctx.store.sessions.apply(
      { broker, node: body.node, seq: body.seq, reset: body.reset, connected: body.connected, disconnected: body.disconnected, at: now },
      { maxNodes, maxSessions, freshSince: freshSince(ctx, now) },
    )
    if (!outcome.applied) {
      if (outcome.reason === 'out-of-sequence') {
        throw new Conflict(
          `report ${body.seq} of node "${body.node}" is out of sequence${outcome.expectedSeq === null ? '' : ` (expected ${outcome.expectedSeq})`}; send all sessions with reset`,
        )
      }
      res.set('Retry-After', String(heartbeatSeconds * 4))
      throw new TooManyRequests(
        outcome.reason === 'too-many-nodes'
          ? `broker "${broker}" already has ${outcome.limit} reporting nodes; nothing was recorded`
          : `broker "${broker}" would have more than ${outcome.limit} reported sessions; nothing was recorded`,
      )
    }
    ctx.log.debug(
      { broker, node: body.node, seq: body.seq, reset: body.reset, connected: body.connected.length, disconnected: body.disconnected.length },
      'session report',
    )
    res.set('Cache-Control', 'no-store').json({ applied: true, revision: outcome.revision, sessions: outcome.sessions, heartbeatSeconds })
  })
  return router
}
