import { IncomingMessage } from 'node:http'
import type { KoaContextWithOIDC, Provider } from 'oidc-provider'

/** The endpoints where oidc-provider authenticates clients (PAR and CIBA are off). */
const CLIENT_AUTH_ROUTES = ['token', 'device_authorization', 'introspection', 'revocation'] as const
/** oidc-provider's own limit on form bodies. */
const MAX_BODY = 56 * 1024

/**
 * Some clients (oidc-agent) send `Authorization: Basic base64("<client_id>:")`
 * for a public client: the client_secret_basic encoding (RFC 6749 §2.3.1)
 * with an empty password, and no `client_id` in the form. A public client
 * (RFC 6749 §2.1, registered with token_endpoint_auth_method `none`) has no
 * password, so such a header carries an identifier and no credential;
 * oidc-provider refuses it outright ("client_secret must be provided in the
 * Authorization header").
 *
 * For a client registered as public, and only then, the header is read as
 * what it is: the `none` method (RFC 7591 §2), with the client identified by
 * the `client_id` parameter RFC 6749 §3.2.1 asks public clients to send. The
 * request goes on without the header and with that parameter, so it is
 * judged exactly as the same client's request made the usual way. For a
 * confidential client nothing changes: an empty secret still fails.
 */
export function usePublicClientBasicHeader(provider: Provider): void {
  const paths = new Set(CLIENT_AUTH_ROUTES.map((route) => provider.pathFor(route)))
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    if (ctx.method === 'POST' && paths.has(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
      const clientId = emptySecretBasicClientId(ctx.get('authorization'))
      if (clientId !== undefined && (await provider.Client.find(clientId))?.clientAuthMethod === 'none') {
        const form = new URLSearchParams(await readBody(ctx.req))
        // A different client_id in the form stays a mismatch: oidc-provider refuses it.
        if (!form.has('client_id')) form.set('client_id', clientId)
        const withoutHeader = form.get('client_id') === clientId
        replaceRequest(ctx, form.toString(), withoutHeader)
      }
    }
    await next()
  })
}

/** The client id of `Basic base64(urlencoded(id) + ":")`, else undefined. */
function emptySecretBasicClientId(header: string): string | undefined {
  const m = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim())
  if (!m?.[1]) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  if (decoded.indexOf(':') !== decoded.length - 1) return undefined
  try {
    return decodeURIComponent(decoded.slice(0, -1).replace(/\+/g, '%20')) || undefined
  } catch {
    return undefined
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new Error('request entity too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Puts a request with the given form body (and, when `dropAuthorization`,
 * without the Authorization header) in place of the one whose body was read,
 * on the same socket, for oidc-provider's own body parser to read.
 */
function replaceRequest(ctx: KoaContextWithOIDC, body: string, dropAuthorization: boolean): void {
  const original = ctx.req
  const next = new IncomingMessage(original.socket)
  next.method = original.method
  next.url = original.url
  next.httpVersion = original.httpVersion
  const headers: Record<string, string | string[] | undefined> = { ...original.headers, 'content-length': String(Buffer.byteLength(body)) }
  if (dropAuthorization) delete headers.authorization
  next.headers = headers
  next.push(body)
  next.push(null)
  // Marks the message as fully received: otherwise destroying it once read would destroy the socket.
  next.complete = true
  ctx.req = next
  ctx.request.req = next
}
