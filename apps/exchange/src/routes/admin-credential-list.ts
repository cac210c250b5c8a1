import { Router } from 'express'
import type { Request, Response } from 'express'
import { InvalidRequest } from '@mqtt-oidc/core'
import type { CredentialQuery, CredentialRecord, CredentialView } from '@mqtt-oidc/core'
import type { ExchangeContext } from '../lib/context.js'
import { getBroker } from '../lib/broker-fields.js'
import { booleanOrAbsent, countParam, singleParam, timeParam } from '../lib/params.js'
import { audit } from '../lib/audit.js'

/** Most credential records one page lists. */
export const MAX_CREDENTIALS_PER_PAGE = 1000
const DEFAULT_PAGE = 100

/**
 * GET /admin/brokers/:id/credentials: the broker's credential records,
 * newest first, filtered by `clientId`, `jti`, `search` (a part of either),
 * `source`, `revoked`, `expired` (true/false), `issuedAfter`,
 * `issuedBefore`, `expiresAfter`, `expiresBefore` (epoch seconds or ISO
 * 8601), a page of `limit` (1..1000, default 100), continued with the
 * answer's `next` as `cursor`. Records of tokens expired over an hour ago
 * are pruned, so they are not listed.
 */
export function adminCredentialListRoutes(ctx: ExchangeContext): Router {
  const router = Router()
  router.get('/admin/brokers/:id/credentials', async (req: Request<{ id: string }>, res: Response) => {
    const broker = (await getBroker(ctx.store, req.params.id)).id
    const now = ctx.now()
    const query = credentialQuery(req.query, now)
    const page = await ctx.store.credentials.search(broker, { ...query, limit: query.limit + 1 })
    const shown = page.slice(0, query.limit)
    const last = shown[shown.length - 1]
    const next = page.length > query.limit && last ? encodeCursor(last) : null
    audit(ctx, res, 'credentials.list', { broker, count: shown.length })
    res.set('Cache-Control', 'no-store').json({ credentials: shown.map((c) => listEntry(c, now)), next })
  })
  return router
}

function credentialQuery(source: unknown, now: number): CredentialQuery {
  const param = (name: string) => singleParam(source, name)
  const expired = booleanOrAbsent(param('expired'), 'expired')
  const origin = param('source')
  if (origin !== undefined && origin !== 'admin' && origin !== 'exchange') throw new InvalidRequest('source must be admin or exchange')
  const expiresAfter = timeParam(param('expiresAfter'), 'expiresAfter')
  const expiresBefore = timeParam(param('expiresBefore'), 'expiresBefore')
  // A token is expired from its `exp` on: expired means exp <= now, not expired exp > now.
  const expiresFrom = max(expiresAfter === undefined ? undefined : expiresAfter + 1, expired === false ? now + 1 : undefined)
  const expiresUntil = min(expiresBefore, expired === true ? now + 1 : undefined)
  const issuedAfter = timeParam(param('issuedAfter'), 'issuedAfter')
  const search = param('search')
  if (search !== undefined && search.length > 256) throw new InvalidRequest('search must be at most 256 characters')
  return {
    clientId: param('clientId'),
    jti: param('jti'),
    contains: search,
    source: origin,
    issuedFrom: issuedAfter === undefined ? undefined : issuedAfter + 1,
    issuedUntil: timeParam(param('issuedBefore'), 'issuedBefore'),
    expiresFrom,
    expiresUntil,
    revoked: booleanOrAbsent(param('revoked'), 'revoked'),
    after: decodeCursor(param('cursor')),
    limit: countParam(param('limit'), 'limit', 1, MAX_CREDENTIALS_PER_PAGE, DEFAULT_PAGE),
  }
}

function listEntry(c: CredentialRecord, now: number): CredentialView {
  const state = c.revokedAt !== null ? 'revoked' : c.expiresAt !== null && c.expiresAt <= now ? 'expired' : 'live'
  return {
    jti: c.jti,
    clientId: c.clientId,
    username: c.username,
    issuedAt: c.issuedAt,
    expiresAt: c.expiresAt,
    source: c.source,
    issuedBy: c.issuedBy,
    revokedAt: c.revokedAt,
    state,
  }
}

/** The page cursor: the last record's issue time and jti, opaque to callers. */
function encodeCursor(c: CredentialRecord): string {
  return Buffer.from(JSON.stringify([c.issuedAt, c.jti])).toString('base64url')
}

function decodeCursor(value: string | undefined): CredentialQuery['after'] {
  if (value === undefined) return undefined
  try {
    const [issuedAt, jti] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[]
    if (Number.isSafeInteger(issuedAt) && typeof jti === 'string' && jti.length <= 128) return { issuedAt: issuedAt as number, jti }
  } catch {
    // reported below
  }
  throw new InvalidRequest("cursor is not one this API gave out (use the answer's next)")
}

const max = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b))
const min = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b))
