import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { InsecureUrl, TokenExchangeRefused } from '../src/errors.js'
import { exchangeToken } from '../src/exchange-token.js'

interface Seen {
  method: string
  url: string
  contentType: string | undefined
  form: Record<string, string>
}
interface Reply {
  status: number
  body: string
  contentType?: string
}

let server: Server
let base: string
let seen: Seen[] = []
let reply: Reply

const brokerJwt = (claims: Record<string, unknown>): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'mqtt-broker+jwt' }).sign(new TextEncoder().encode('k'.repeat(32)))

beforeAll(async () => {
  server = createServer((req, res) => {
    void read(req).then((body) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], form: Object.fromEntries(new URLSearchParams(body)) })
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' })
      res.end(reply.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
beforeEach(() => {
  seen = []
})

describe('exchangeToken: POST <exchange>/token (RFC 8693)', () => {
  it('sends the token-exchange form and returns the broker token with its sub, username, expiry and ACL', async () => {
    const acl = { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] }
    const token = await brokerJwt({
      iss: base,
      aud: 'demo',
      sub: 'gateway-1',
      username: 'alice',
      jti: '01J0000000000000000000000',
      iat: 1_700_000_000,
      exp: 1_700_000_600,
      acl,
    })
    reply = {
      status: 200,
      body: JSON.stringify({ access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:jwt', token_type: 'N_A', expires_in: 600 }),
    }
    const result = await exchangeToken({ exchangeUrl: `${base}/`, broker: 'demo', subjectToken: 'the.id.token' })
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/token',
        contentType: 'application/x-www-form-urlencoded',
        form: {
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: 'the.id.token',
          subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
          audience: 'demo',
        },
      },
    ])
    expect(result).toEqual({ token, clientId: 'gateway-1', username: 'alice', expiresAt: 1_700_000_600, acl, jti: '01J0000000000000000000000' })
  })

  it('keeps a path prefix of the exchange URL', async () => {
    reply = { status: 200, body: JSON.stringify({ access_token: await brokerJwt({ sub: 'c1' }), token_type: 'N_A' }) }
    const result = await exchangeToken({ exchangeUrl: `${base}/exchange`, broker: 'demo', subjectToken: 't' })
    expect(seen[0]?.url).toBe('/exchange/token')
    expect(result).toEqual({ token: expect.any(String), clientId: 'c1', username: undefined, expiresAt: undefined, acl: undefined, jti: undefined })
  })

  it('surfaces {error, error_description} as TokenExchangeRefused with the HTTP status', async () => {
    reply = { status: 400, body: JSON.stringify({ error: 'invalid_target', error_description: 'unknown broker "nope"' }) }
    const err = await exchangeToken({ exchangeUrl: base, broker: 'nope', subjectToken: 't' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TokenExchangeRefused)
    expect(err).toMatchObject({
      code: 'ERR_TOKEN_EXCHANGE_REFUSED',
      error: 'invalid_target',
      error_description: 'unknown broker "nope"',
      status: 400,
      message: 'token exchange refused: invalid_target (unknown broker "nope")',
    })
  })

  it('turns a response that is not an OAuth error into server_error naming the status', async () => {
    reply = { status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' }
    await expect(exchangeToken({ exchangeUrl: base, broker: 'demo', subjectToken: 't' })).rejects.toMatchObject({
      code: 'ERR_TOKEN_EXCHANGE_REFUSED',
      error: 'server_error',
      error_description: 'HTTP 502 Bad Gateway',
      status: 502,
    })
  })

  it('refuses to send an ID token over plain http to a host that is not loopback', async () => {
    await expect(exchangeToken({ exchangeUrl: 'http://exchange.example.com', broker: 'demo', subjectToken: 't' })).rejects.toBeInstanceOf(InsecureUrl)
    expect(seen).toEqual([])
  })
})

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
