import { parseFeedEvents, parseFeedSnapshot } from './feed-messages.js'
import type { FeedEvents, FeedSnapshot } from './feed-messages.js'

export interface FeedClientOptions {
  /** The exchange's base URL. */
  readonly feedUrl: string | URL
  readonly broker: string
  readonly fetch: typeof fetch
  /** This broker's feed credential, read before every request (a rotated one is picked up). */
  readonly credential: () => string | undefined
  /** Timeout of snapshot and poll requests, ms. */
  readonly requestTimeoutMs: number
  /** Aborts every request (the follower closed). */
  readonly signal: AbortSignal
  /** Called on every sign of life from the feed (an answer, a stream opening). */
  readonly onContact: () => void
}

/** The feed answered with a status other than 200 (401: this broker's credential was refused). */
export class FeedHttpError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`${what} answered ${status}`)
    this.name = 'FeedHttpError'
  }
}

/** An opened SSE stream, or why it did not open. */
export type StreamOpening =
  { readonly ok: true; readonly body: ReadableStream<Uint8Array> } | { readonly ok: false; readonly status?: number; readonly err?: unknown }

export interface FeedClient {
  /** `GET /brokers/:id/revocations` */
  snapshot(): Promise<FeedSnapshot>
  /** `GET /brokers/:id/revocations?since=N` */
  since(revision: number): Promise<FeedEvents>
  /** `GET /brokers/:id/revocations/stream` resuming after `lastEventId`; `abort` ends it. */
  openStream(lastEventId: number, abort: AbortSignal): Promise<StreamOpening>
}

/** The HTTP side of the revocation feed: URLs, the broker's credential, timeouts, status checks. */
export function createFeedClient(options: FeedClientOptions): FeedClient {
  const base = String(options.feedUrl).replace(/\/*$/, '/')
  const feed = new URL(`brokers/${encodeURIComponent(options.broker)}/revocations`, base)
  const stream = new URL(`${feed.pathname}/stream`, feed)

  function headers(accept: string, extra: Record<string, string> = {}): Record<string, string> {
    const credential = options.credential()
    return { accept, ...extra, ...(credential ? { authorization: `Bearer ${credential}` } : {}) }
  }

  async function getJson(url: URL): Promise<unknown> {
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.requestTimeoutMs)])
    const res = await options.fetch(url, { headers: headers('application/json'), signal })
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      throw new FeedHttpError(res.status, `GET ${url.pathname}${url.search}`)
    }
    const body: unknown = await res.json()
    options.onContact()
    return body
  }

  return {
    snapshot: async () => parseFeedSnapshot(await getJson(feed)),
    async since(revision) {
      const url = new URL(feed)
      url.searchParams.set('since', String(revision))
      return parseFeedEvents(await getJson(url))
    },
    async openStream(lastEventId, abort) {
      let res: Response
      try {
        res = await options.fetch(stream, {
          headers: headers('text/event-stream', { 'last-event-id': String(lastEventId) }),
          signal: AbortSignal.any([options.signal, abort]),
        })
      } catch (err) {
        return { ok: false, err }
      }
      if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await res.body?.cancel().catch(() => {})
        return { ok: false, status: res.status }
      }
      options.onContact()
      return { ok: true, body: res.body }
    },
  }
}
