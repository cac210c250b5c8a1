import { isRecord } from '@mqtt-oidc/core'
import type { RevokedEntry } from './revocation-set.js'

/** `GET /brokers/:id/revocations` */
export interface FeedSnapshot {
  readonly revision: number
  readonly revoked: RevokedEntry[]
}

/** One change on the feed (`?since=N` list item, or an SSE event). */
export interface FeedEvent {
  readonly revision: number
  readonly jti: string
  readonly action: 'revoke' | 'unrevoke'
  readonly expiresAt: number | null
}

/** `GET /brokers/:id/revocations?since=N` */
export interface FeedEvents {
  readonly revision: number
  readonly events: FeedEvent[]
}

const isRevision = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const isJti = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128
const expiresAtOf = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

function fail(what: string): never {
  throw new TypeError(`revocation feed: malformed ${what}`)
}

export function parseFeedSnapshot(body: unknown): FeedSnapshot {
  if (!isRecord(body) || !isRevision(body.revision) || !Array.isArray(body.revoked)) fail('snapshot')
  const revoked = body.revoked.map((e: unknown) => {
    if (!isRecord(e) || !isJti(e.jti)) fail('snapshot entry')
    return { jti: e.jti, expiresAt: expiresAtOf(e.expiresAt) }
  })
  return { revision: body.revision, revoked }
}

export function parseFeedEvent(e: unknown): FeedEvent {
  if (!isRecord(e) || !isRevision(e.revision) || !isJti(e.jti) || (e.action !== 'revoke' && e.action !== 'unrevoke')) {
    fail('event')
  }
  return { revision: e.revision, jti: e.jti, action: e.action, expiresAt: expiresAtOf(e.expiresAt) }
}

export function parseFeedEvents(body: unknown): FeedEvents {
  if (!isRecord(body) || !isRevision(body.revision) || !Array.isArray(body.events)) fail('events')
  return { revision: body.revision, events: body.events.map(parseFeedEvent) }
}

/** An SSE event block (`id: N`, `event: revoke|unrevoke`, `data: {jti, expiresAt}`) as a feed event. */
export function parseSseFeedEvent(id: string | undefined, event: string, data: string): FeedEvent {
  const payload: unknown = JSON.parse(data)
  if (!isRecord(payload)) fail('stream event')
  const revision = id !== undefined && /^\d+$/.test(id) ? Number(id) : Number.NaN
  return parseFeedEvent({ ...payload, revision, action: event })
}
