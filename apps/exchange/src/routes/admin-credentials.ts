import { Router } from 'express'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { ALL_TOPICS_ACL, InvalidRequest, NO_EXPIRATION, TooManyRequests, mqttIdentifierProblem, parseDuration, createId } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { aclSchema, expirationSchema, getBroker } from '../lib/broker-fields.js'
import { adminLifetime } from '../lib/expiration.js'
import { parseBody } from '../lib/params.js'
import { adminName } from '../require-admin.js'
import { audit } from '../lib/audit.js'
import { createRateLimiter } from '@mqtt-oidc/core'
import type { RateLimiter } from '@mqtt-oidc/core'
import { getBrokerPolicy } from '../lib/broker-policy.js'
import { brokerSigner } from '../lib/broker-signer.js'
import { issueBrokerToken } from '../issue-broker-token.js'
import type { IssuedBrokerToken } from '../issue-broker-token.js'

/** Most credentials one request may issue (Cloudflare Pub/Sub's limit). */
export const MAX_CREDENTIALS_PER_REQUEST = 100

const NUMBER_MESSAGE = `number must be between 1 and ${MAX_CREDENTIALS_PER_REQUEST}`

import { refuseOwnedClientIds } from '../lib/owned-client-ids.js'

// Client ids and usernames are substituted into ACL filters and MQTT topics: core's one rule.
const identifier = (kind: 'client id' | 'username') => z.string().superRefine((value, zctx) => {
  const problem = mqttIdentifierProblem(kind, value)
  if (problem) zctx.addIssue({ code: 'custom', message: problem })
})
const clientIdSchema = identifier('client id')

const issueSchema = z.object({
  number: z.union([z.number(), z.string()]).transform((value, zctx) => {
    const n = typeof value === 'number' ? value : /^\d{1,4}$/.test(value) ? Number(value) : NaN
    if (Number.isInteger(n) && n >= 1 && n <= MAX_CREDENTIALS_PER_REQUEST) return n
    zctx.addIssue({ code: 'custom', message: NUMBER_MESSAGE })
    return z.NEVER
  }).optional(),
  clientIds: z.array(clientIdSchema)
    .min(1, { message: `clientIds must list between 1 and ${MAX_CREDENTIALS_PER_REQUEST} client ids` })
    .max(MAX_CREDENTIALS_PER_REQUEST, { message: `clientIds must list between 1 and ${MAX_CREDENTIALS_PER_REQUEST} client ids` })
    .optional(),
  expiration: expirationSchema.optional(),
  acl: aclSchema.optional(),
  username: identifier('username').optional(),
  /** Issue even for client ids an account or subject owns (their credential then takes over the owner's session). */
  allowOwnedClientIds: z.boolean().optional(),
  /** When the credentials become valid: epoch seconds, an ISO 8601 time, or a duration from now ("10m"). */
  notBefore: z.union([z.number(), z.string().min(1).max(64)]).optional(),
}).strict()

/**
 * POST /admin/brokers/:id/credentials: issue 1..100 credentials at once,
 * answered as `{ "<clientid>": "<token>" }` (the Cloudflare Pub/Sub shape).
 * All are recorded in one transaction before any is returned.
 */
export function adminCredentialRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  const limiter = createRateLimiter()
  router.post('/admin/brokers/:id/credentials', async (req: Request<{ id: string }>, res: Response) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
    const body = parseBody(issueSchema, req.body)
    const clientIds = resolveClientIds(body.number, body.clientIds)
    const broker = await getBroker(ctx.store, req.params.id)
    const now = ctx.now()
    const owned = await refuseOwnedClientIds(ctx.identityStore, clientIds, body.allowOwnedClientIds === true, now)
    const lifetime = adminLifetime(body.expiration, broker.expiration, ctx.defaultCredentialLifetime)
    const issuedBy = adminName(res)
    const notBefore = body.notBefore === undefined ? undefined : parseNotBefore(body.notBefore, now)
    if (ctx.adminIssueRateLimit && clientIds.length > ctx.adminIssueRateLimit.requests) {
      const { requests, windowSeconds } = ctx.adminIssueRateLimit
      throw new InvalidRequest(`an admin may issue at most ${requests} credentials per ${windowSeconds} s; ask for fewer`)
    }
    const key = await brokerSigner(ctx, broker.id, await getBrokerPolicy(ctx.store, broker.id))
    // Counting and recording under one lock, so concurrent batches cannot overrun the broker's quota together.
    const issued = await ctx.store.withLock(`admin-issue:${broker.id}`, async () => {
      await checkLiveQuota(ctx, res, broker.id, clientIds.length, now)
      takeIssueBudget(ctx, limiter, res, issuedBy, clientIds.length, now)
      const tokens: IssuedBrokerToken[] = []
      for (const clientId of clientIds) {
        tokens.push(await issueBrokerToken({
          key,
          issuer: ctx.issuer(),
          broker: broker.id,
          clientId,
          username: body.username,
          acl: body.acl ?? ALL_TOPICS_ACL,
          now,
          notBefore,
          lifetime,
          source: 'admin',
          issuedBy,
        }))
      }
      await ctx.keyUsage.note(key.kid, lifetime === null ? null : (notBefore ?? now) + lifetime)
      await ctx.store.credentials.insertMany(tokens.map((i) => i.credential))
      return tokens
    })
    audit(ctx, res, 'credentials.issue', {
      broker: broker.id, jtis: issued.map((i) => i.credential.jti), client_ids: clientIds, expires_in: lifetime, not_before: notBefore,
      ...(owned.length > 0 ? { owned_client_ids: owned } : {}),
    })
    res.json(Object.fromEntries(issued.map((i) => [i.credential.clientId, i.token])))
  })
  return router
}

/** Counts a batch against the admin's issuance budget, or refuses it (429 with Retry-After) counting nothing. */
function takeIssueBudget(ctx: ExchangeContext, limiter: RateLimiter, res: Response, admin: string, count: number, now: number): void {
  const limit = ctx.adminIssueRateLimit
  if (!limit) return
  const retryAfter = limiter.take(`admin\0${admin}`, count, limit, now)
  if (retryAfter === 0) return
  const left = limit.requests - limiter.used(`admin\0${admin}`, now)
  res.set('Retry-After', String(retryAfter))
  throw new TooManyRequests(`this admin may issue ${limit.requests} credentials per ${limit.windowSeconds} s and has ${left} left; retry in ${retryAfter} s`)
}

/**
 * Refuses a batch that would take the broker past its quota of live
 * admin-issued credentials (429); Retry-After says when enough of them will
 * have expired, when they ever do.
 */
async function checkLiveQuota(ctx: ExchangeContext, res: Response, broker: string, count: number, now: number): Promise<void> {
  const max = ctx.maxLiveAdminCredentials
  if (max === null) return
  const live = await ctx.store.credentials.countLive(broker, now, 'admin')
  if (live + count <= max) return
  const freedAt = await ctx.store.credentials.nthLiveExpiry(broker, now, live + count - max, 'admin')
  const head = `broker "${broker}" has ${live} live admin-issued credentials (quota ${max}): ${count} more do not fit`
  if (freedAt === null) throw new TooManyRequests(`${head}; revoke some first`)
  const retryAfter = freedAt - now
  res.set('Retry-After', String(retryAfter))
  throw new TooManyRequests(`${head}; retry in ${retryAfter} s, when enough of them have expired, or revoke some`)
}

function resolveClientIds(number: number | undefined, clientIds: string[] | undefined): string[] {
  if (clientIds === undefined) return Array.from({ length: number ?? 1 }, () => createId())
  if (number !== undefined && number !== clientIds.length) {
    throw new InvalidRequest('number and clientIds disagree; give one of them')
  }
  const seen = new Set<string>()
  const duplicates = new Set(clientIds.filter((id) => seen.has(id) || !seen.add(id)))
  if (duplicates.size > 0) throw new InvalidRequest(`duplicate client ids: ${[...duplicates].join(', ')}`)
  return clientIds
}

/** Latest `notBefore`, seconds after now: credentials made for a rollout up to a year ahead. */
export const MAX_NOT_BEFORE_AHEAD = 365 * 86400
/** Earliest `notBefore`, seconds before now: a credential valid from a little while ago; older is a typo. */
export const MAX_NOT_BEFORE_BEHIND = 86400

/** `notBefore` as epoch seconds within the bounds; out of them the error says the bounds. */
function parseNotBefore(value: number | string, now: number): number {
  const at = notBeforeTime(value, now)
  const [earliest, latest] = [now - MAX_NOT_BEFORE_BEHIND, now + MAX_NOT_BEFORE_AHEAD]
  if (at >= earliest && at <= latest) return at
  // 1e11 s is the year 5138: such a value is far more likely epoch milliseconds
  const hint = at > 1e11 ? ' (milliseconds? notBefore takes seconds)' : ''
  throw new InvalidRequest(`notBefore must be from 1 day before now to 365 days after now (epoch seconds ${earliest} to ${latest}); got ${at}${hint}`)
}

/** A number is epoch seconds, a string digits, a duration from now ("10m") or an ISO 8601 time. */
function notBeforeTime(value: number | string, now: number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new InvalidRequest(`notBefore must be whole epoch seconds; got ${value}`)
    return value
  }
  if (/^\d+$/.test(value)) return Number(value)
  try {
    const seconds = parseDuration(value)
    if (seconds !== NO_EXPIRATION) return now + seconds
  } catch {
    // not a duration: try a time
  }
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new InvalidRequest('notBefore must be epoch seconds, an ISO 8601 time or a duration such as 10m')
  return Math.floor(ms / 1000)
}
