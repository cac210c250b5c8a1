import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'

interface Event {
  revision: number
  jti: string
  action: 'revoke' | 'unrevoke'
  expiresAt: number | null
}

export interface FeedRequest {
  readonly path: string
  readonly lastEventId: string | undefined
  readonly authorization?: string | undefined
}

/**
 * The parts of apps/exchange a broker talks to, served for real over HTTP on
 * 127.0.0.1:0: `GET /.well-known/jwks.json` and the revocation feed
 * (`/brokers/:id/revocations`, `?since=N`, `/stream` as SSE with resume), in
 * the shapes of the team brief.
 */
export interface FakeExchange {
  readonly url: string
  readonly jwksUri: string
  /** Keys served at the JWKS URL. */
  jwks: { keys: JWK[] }
  /** When set, the JWKS route answers with this status and a non-JSON body. */
  jwksFailure: number | undefined
  /** When set, the JWKS route answers 200 with this raw body (garbage tests). */
  jwksRaw: string | undefined
  /** JWKS requests seen. */
  jwksHits: number
  /** JWKS requests answered 304 Not Modified (their If-None-Match held the current ETag, as apps/exchange answers). */
  jwksNotModified: number
  /** When set, the snapshot route answers with this status. */
  snapshotFailure: number | undefined
  /** When set, the stream route answers with this status (forcing the poll fallback). */
  streamFailure: number | undefined
  /** When set, every feed request must carry `Authorization: Bearer <feedCredential>`, else 401. */
  feedCredential: string | undefined
  /** Every feed request, in order. */
  readonly feedRequests: FeedRequest[]
  revoke(jti: string, expiresAt?: number | null): number
  unrevoke(jti: string): number
  /** Open SSE streams. */
  readonly openStreams: number
  /** Resolves once no SSE stream is open (the client went away). */
  streamsClosed(): Promise<void>
  /** Ends every open SSE stream (as a restarting exchange would). */
  dropStreams(): void
  /** Resolves when the next feed request matching `pred` arrives. */
  nextFeedRequest(pred?: (r: FeedRequest) => boolean): Promise<FeedRequest>
  close(): Promise<void>
}

export async function startFakeExchange(options: { broker: string }): Promise<FakeExchange> {
  const events: Event[] = []
  const revoked = new Map<string, number | null>()
  const streams = new Set<ServerResponse>()
  let onStreamClosed: Array<() => void> = []
  const waiters: Array<{ pred: (r: FeedRequest) => boolean; resolve: (r: FeedRequest) => void }> = []
  const base = `/brokers/${options.broker}/revocations`
  const revision = (): number => events.at(-1)?.revision ?? 0

  const sse = (e: Event): string => `id: ${e.revision}\nevent: ${e.action}\ndata: ${JSON.stringify({ jti: e.jti, expiresAt: e.expiresAt })}\n\n`

  function record(req: IncomingMessage, path: string): void {
    const header = req.headers['last-event-id']
    const r: FeedRequest = { path, lastEventId: typeof header === 'string' ? header : undefined, authorization: req.headers.authorization }
    exchange.feedRequests.push(r)
    for (const w of [...waiters]) {
      if (w.pred(r)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(r)
      }
    }
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/.well-known/jwks.json') {
      exchange.jwksHits++
      if (exchange.jwksFailure) return void res.writeHead(exchange.jwksFailure).end('down')
      if (exchange.jwksRaw !== undefined) return void res.writeHead(200, { 'content-type': 'application/json' }).end(exchange.jwksRaw)
      const body = JSON.stringify(exchange.jwks)
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
      if (req.headers['if-none-match'] === etag) {
        exchange.jwksNotModified++
        return void res.writeHead(304, { etag }).end()
      }
      return void res.writeHead(200, { 'content-type': 'application/json', etag }).end(body)
    }
    const feedPath = url.pathname === base || url.pathname === `${base}/stream`
    if (feedPath && exchange.feedCredential !== undefined && req.headers.authorization !== `Bearer ${exchange.feedCredential}`) {
      record(req, `${url.pathname}${url.search}`)
      res.setHeader('www-authenticate', 'Bearer realm="mqtt-oidc-feed"')
      return json(res, 401, { error: 'invalid_token', error_description: 'a feed credential is required' })
    }
    if (url.pathname === base) {
      record(req, `${url.pathname}${url.search}`)
      const since = url.searchParams.get('since')
      if (since !== null) {
        return json(res, 200, { broker: options.broker, revision: revision(), events: events.filter((e) => e.revision > Number(since)) })
      }
      if (exchange.snapshotFailure) return json(res, exchange.snapshotFailure, { error: 'server_error' })
      return json(res, 200, {
        broker: options.broker,
        revision: revision(),
        revoked: [...revoked].map(([jti, expiresAt]) => ({ jti, expiresAt })),
      })
    }
    if (url.pathname === `${base}/stream`) {
      record(req, url.pathname)
      if (exchange.streamFailure) return json(res, exchange.streamFailure, { error: 'server_error' })
      const header = req.headers['last-event-id']
      const since = Number((typeof header === 'string' ? header : undefined) ?? url.searchParams.get('since') ?? revision())
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
      res.write(': keepalive\n\n')
      for (const e of events) if (e.revision > since) res.write(sse(e))
      streams.add(res)
      req.on('close', () => {
        streams.delete(res)
        if (streams.size > 0) return
        for (const resolve of onStreamClosed) resolve()
        onStreamClosed = []
      })
      return
    }
    json(res, 404, { error: 'not_found' })
  }

  function push(e: Event): number {
    events.push(e)
    for (const res of streams) res.write(sse(e))
    return e.revision
  }

  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const exchange: FakeExchange = {
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    jwks: { keys: [] },
    jwksFailure: undefined,
    jwksRaw: undefined,
    jwksHits: 0,
    jwksNotModified: 0,
    snapshotFailure: undefined,
    streamFailure: undefined,
    feedCredential: undefined,
    feedRequests: [],
    revoke(jti, expiresAt = null) {
      revoked.set(jti, expiresAt)
      return push({ revision: revision() + 1, jti, action: 'revoke', expiresAt })
    },
    unrevoke(jti) {
      const expiresAt = revoked.get(jti) ?? null
      revoked.delete(jti)
      return push({ revision: revision() + 1, jti, action: 'unrevoke', expiresAt })
    },
    get openStreams() {
      return streams.size
    },
    streamsClosed() {
      return streams.size === 0 ? Promise.resolve() : new Promise((resolve) => onStreamClosed.push(resolve))
    },
    dropStreams() {
      for (const res of streams) res.destroy()
      streams.clear()
    },
    nextFeedRequest(pred = () => true) {
      return new Promise((resolve) => waiters.push({ pred, resolve }))
    },
    async close() {
      exchange.dropStreams()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return exchange
}
