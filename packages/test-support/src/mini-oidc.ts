import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'

/** A login's tokens as mini-oidc issues them: a @mqtt-oidc/client TokenSet with every field present (its token store takes it as is). */
export type LoginTokens = {
  readonly idToken: string
  readonly refreshToken: string
  readonly accessToken: string
  readonly expiresAt: number
  readonly scope: string
}

/**
 * A small but real OIDC issuer on 127.0.0.1:0 for the client's tests:
 * discovery, JWKS, device authorization, and a token endpoint with the
 * device_code, refresh_token (rotating, reuse = invalid_grant) and
 * client_credentials (RFC 9068 `at+jwt` for the admin client) grants.
 * It counts the requests it serves so tests can assert "no HTTP request".
 */
export interface MiniOidc {
  /** The issuer it names in discovery and tokens: its own address, or the one it was started with. */
  readonly issuer: string
  /** Where it listens (`http://127.0.0.1:<port>`). */
  readonly address: string
  readonly clientId: string
  /** Requests served, by "METHOD path" and by token grant ("grant:refresh_token"). */
  readonly hits: Map<string, number>
  hitCount(key: string): number
  /** Approves (or denies) a pending device code by its user code. */
  decide(userCode: string, approve: boolean): void
  /** A token set as a login would store it; `ttl` seconds of ID token lifetime (negative: already expired). */
  login(ttl?: number, claims?: Record<string, unknown>): Promise<LoginTokens>
  /** Answer the next `n` device-code polls with `slow_down` (RFC 8628 §3.5). */
  slowDown(n: number): void
  /** Make every refresh fail with this OAuth error (undefined: succeed again). */
  failRefreshWith(error: string | undefined): void
  /** Lifetime of ID tokens it issues from grants. Default 300. */
  idTokenTtl: number
  readonly adminClient: { readonly clientId: string; readonly clientSecret: string }
  close(): Promise<void>
}

const now = (): number => Math.floor(Date.now() / 1000)

/** `issuer`: name this issuer instead of its own address (a server reached at another address than its public one). */
export async function startMiniOidc(options: { issuer?: string } = {}): Promise<MiniOidc> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }
  const clientId = 'mqtt-oidc-cli'
  const adminClient = { clientId: 'mqtt-oidc-admin', clientSecret: randomBytes(16).toString('hex') }
  const hits = new Map<string, number>()
  const devices = new Map<string, { userCode: string; state: 'pending' | 'approved' | 'denied' }>()
  const refreshTokens = new Map<string, 'live' | 'used'>()
  let refreshError: string | undefined
  let slowDowns = 0
  let issuer = ''
  let address = ''
  const self: MiniOidc = {
    get issuer() {
      return issuer
    },
    get address() {
      return address
    },
    clientId,
    hits,
    hitCount: (key) => hits.get(key) ?? 0,
    decide(userCode, approve) {
      for (const d of devices.values()) if (d.userCode === userCode) d.state = approve ? 'approved' : 'denied'
    },
    login: async (ttl = 300, claims = {}) => tokenSet(ttl, claims),
    failRefreshWith(error) {
      refreshError = error
    },
    slowDown(n) {
      slowDowns = n
    },
    idTokenTtl: 300,
    adminClient,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }

  const sign = (claims: Record<string, unknown>, typ?: string): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', ...(typ ? { typ } : {}) }).sign(privateKey)

  async function tokenSet(ttl: number, claims: Record<string, unknown> = {}): Promise<LoginTokens> {
    const iat = now() - (ttl < 0 ? 600 : 0)
    const exp = ttl < 0 ? now() + ttl : iat + ttl
    const idToken = await sign({ iss: issuer, aud: clientId, sub: 'account-1', clientid: 'gateway-1', username: 'alice', iat, exp, ...claims })
    const refreshToken = randomBytes(16).toString('hex')
    refreshTokens.set(refreshToken, 'live')
    return { idToken, refreshToken, accessToken: 'opaque-at', expiresAt: exp, scope: 'openid mqtt offline_access' }
  }

  async function token(form: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const grant = form.get('grant_type') ?? ''
    const short = grant.replace('urn:ietf:params:oauth:grant-type:', '')
    hits.set(`grant:${short}`, (hits.get(`grant:${short}`) ?? 0) + 1)
    const fail = (error: string, status = 400): void => send(res, status, { error, error_description: `mini-oidc: ${error}` })
    if (short === 'device_code') {
      const d = devices.get(form.get('device_code') ?? '')
      if (!d) return fail('invalid_grant')
      if (slowDowns > 0) {
        slowDowns -= 1
        return fail('slow_down')
      }
      if (d.state === 'pending') return fail('authorization_pending')
      if (d.state === 'denied') return fail('access_denied')
      devices.delete(form.get('device_code') ?? '')
      return sendTokens(res, await tokenSet(self.idTokenTtl))
    }
    if (short === 'refresh_token') {
      const rt = form.get('refresh_token') ?? ''
      if (refreshError) return fail(refreshError)
      if (refreshTokens.get(rt) !== 'live') return fail('invalid_grant')
      refreshTokens.set(rt, 'used') // rotation: a refresh token is redeemed once
      return sendTokens(res, await tokenSet(self.idTokenTtl))
    }
    if (short === 'client_credentials') {
      if (!basicAuthMatches(req.headers.authorization, adminClient)) return fail('invalid_client', 401)
      const resource = form.get('resource') ?? issuer
      const accessToken = await sign(
        {
          iss: issuer,
          aud: resource,
          sub: adminClient.clientId,
          client_id: adminClient.clientId,
          scope: form.get('scope') ?? '',
          iat: now(),
          exp: now() + 300,
          jti: randomBytes(8).toString('hex'),
        },
        'at+jwt',
      )
      return send(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300, scope: form.get('scope') ?? '' })
    }
    return fail('unsupported_grant_type')
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const key = `${req.method ?? 'GET'} ${path}`
    hits.set(key, (hits.get(key) ?? 0) + 1)
    readBody(req)
      .then(async (body) => {
        const form = new URLSearchParams(body)
        if (key === 'GET /.well-known/openid-configuration') {
          return send(res, 200, {
            issuer,
            jwks_uri: `${issuer}/jwks`,
            token_endpoint: `${issuer}/token`,
            device_authorization_endpoint: `${issuer}/device/auth`,
            grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token', 'client_credentials'],
            id_token_signing_alg_values_supported: ['RS256'],
            token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
          })
        }
        if (key === 'GET /jwks') return send(res, 200, jwks)
        if (key === 'POST /device/auth') {
          const deviceCode = randomBytes(16).toString('hex')
          const userCode = randomBytes(4).toString('hex').toUpperCase()
          devices.set(deviceCode, { userCode, state: 'pending' })
          return send(res, 200, {
            device_code: deviceCode,
            user_code: userCode,
            verification_uri: `${issuer}/device`,
            verification_uri_complete: `${issuer}/device?user_code=${userCode}`,
            expires_in: 60,
            interval: 0.05,
          })
        }
        if (key === 'POST /token') return token(form, req, res)
        return send(res, 404, { error: 'not_found' })
      })
      .catch((err: unknown) => send(res, 500, { error: 'server_error', error_description: String(err) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  issuer = options.issuer ?? address
  return self
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ':' and base64-encoded. */
function basicAuthMatches(header: string | undefined, client: { clientId: string; clientSecret: string }): boolean {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '')
  if (!m?.[1]) return false
  const [id, secret] = Buffer.from(m[1], 'base64')
    .toString('utf8')
    .split(':')
    .map((p) => decodeURIComponent(p.replace(/\+/g, ' ')))
  return id === client.clientId && secret === client.clientSecret
}

function sendTokens(res: ServerResponse, t: LoginTokens): void {
  send(res, 200, { access_token: t.accessToken, token_type: 'Bearer', expires_in: 300, id_token: t.idToken, refresh_token: t.refreshToken, scope: t.scope })
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
