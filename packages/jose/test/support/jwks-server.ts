import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A real JWKS endpoint on 127.0.0.1:0 whose behaviour the test sets: the
 * keys it serves, or a failure (an error status, a raw body, silence).
 */
export interface JwksServer {
  readonly url: string
  keys: unknown[]
  /** When set, answers this status (and a non-JSON body). */
  status: number | undefined
  /** When set, answers 200 with this raw body. */
  raw: string | undefined
  /** When true, accepts the request and never answers. */
  hang: boolean
  /** When set, sends this ETag and answers a matching If-None-Match with 304. */
  etag: string | undefined
  /** When set, answers 302 to this location. */
  redirect: string | undefined
  /** Requests seen, with their If-None-Match. */
  readonly requests: Array<{ ifNoneMatch: string | undefined }>
  close(): Promise<void>
}

export async function startJwksServer(keys: unknown[] = []): Promise<JwksServer> {
  const hanging = new Set<ServerResponse>()
  const state: Omit<JwksServer, 'url' | 'close'> = { keys, status: undefined, raw: undefined, hang: false, etag: undefined, redirect: undefined, requests: [] }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ifNoneMatch = req.headers['if-none-match']
    state.requests.push({ ifNoneMatch: typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined })
    if (state.hang) {
      hanging.add(res)
      return
    }
    if (state.redirect) return void res.writeHead(302, { location: state.redirect }).end()
    if (state.status) return void res.writeHead(state.status, { 'content-type': 'text/html' }).end('<html>error</html>')
    if (state.raw !== undefined) return void res.writeHead(200, { 'content-type': 'application/json' }).end(state.raw)
    if (state.etag && ifNoneMatch === state.etag) return void res.writeHead(304, { etag: state.etag }).end()
    res.writeHead(200, { 'content-type': 'application/json', ...(state.etag ? { etag: state.etag } : {}) }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
  return Object.assign(state, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}
