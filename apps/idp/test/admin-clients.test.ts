import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount } from '../src/index.js'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { DEVICE_GRANT, EXCHANGE_URL, startTestIdp, type TestIdp } from './support/test-idp.js'
import { adminApi, adminToken, basic, ok, refused, type AdminApi } from './support/admin-api.js'

const ALICE = { username: 'alice', password: 'correct horse battery' }
const NATIVE_SCOPE = 'openid offline_access mqtt groups'

let t: TestIdp
let admin: string
let api: AdminApi

beforeAll(async () => {
  t = await startTestIdp({}, async (store) => {
    await createAccount(store, { ...ALICE, clientIds: ['alice-1'], clientIdMode: 'shared' })
  })
  admin = await adminToken(t.issuer)
  api = adminApi(t.issuer, admin)
})
afterAll(async () => {
  await t?.close()
})

describe('the admin API authentication', () => {
  it('asks for a Bearer token', async () => {
    const res = await fetch(`${t.issuer}/admin/clients`)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="mqtt-oidc"')
    await refused(res, 401, { error: 'invalid_token', error_description: 'an access token with scope mqtt-oidc:admin is required' })
  })

  it('refuses an admin token meant for the exchange: one token, one API', async () => {
    const res = await api('GET', '/clients', undefined, await adminToken(t.issuer, EXCHANGE_URL))
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="mqtt-oidc", error="invalid_token"')
    await refused(res, 401, { error: 'invalid_token', error_description: "the access token's aud claim is not accepted here" })
  })

  it('refuses an ID token or garbage as the Bearer token', async () => {
    await refused(await api('GET', '/clients', undefined, 'abc.def.ghi'), 401, {
      error: 'invalid_token',
      error_description: 'the Authorization header is not a well-formed Bearer access token',
    })
  })
})

describe('POST /admin/clients', () => {
  it('registers a public native client with the device flow, and shows no secret', async () => {
    const body = await ok(await api('POST', '/clients', { client_id: 'gateway-app', client_name: 'Gateway app', application_type: 'native' }), 201)
    expect(body).toEqual({
      client_id: 'gateway-app',
      client_name: 'Gateway app',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [],
      post_logout_redirect_uris: [],
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      response_types: [],
      scope: NATIVE_SCOPE,
      id_token_signed_response_alg: 'RS256',
      built_in: false,
      created_at: expect.any(Number),
      updated_at: expect.any(Number),
    })
    expect(await ok(await api('GET', '/clients/gateway-app'))).toEqual(body)
  })

  it('registers a confidential web client whose secret is shown once and stored only as a hash', async () => {
    const created = await ok<{ client_secret: string }>(
      await api('POST', '/clients', {
        client_id: 'dashboard',
        application_type: 'web',
        redirect_uris: ['https://dash.example/callback'],
        scope: 'openid mqtt',
      }),
      201,
    )
    expect(created).toMatchObject({
      client_id: 'dashboard',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    })
    expect(await ok(await api('GET', '/clients/dashboard'))).not.toHaveProperty('client_secret')
    const stored = await t.store.oauthClients.get('dashboard')
    expect(stored?.secretHash).toMatch(/^sha256:/)
    expect(JSON.stringify(stored)).not.toContain(created.client_secret)

    // The secret authenticates (Basic and form); its hash does not.
    const introspect = (headers: Record<string, string>, form: Record<string, string> = {}) =>
      fetch(`${t.issuer}/token/introspection`, { method: 'POST', headers, body: new URLSearchParams({ token: 'x', ...form }) })
    expect((await introspect({ authorization: basic('dashboard', created.client_secret) })).status).toBe(200)
    expect((await introspect({}, { client_id: 'dashboard', client_secret: created.client_secret })).status).toBe(200)
    expect((await introspect({ authorization: basic('dashboard', stored?.secretHash ?? '') })).status).toBe(401)
  })

  it('lists registered and built-in clients by id', async () => {
    const list = await ok<Array<{ client_id: string; built_in: boolean }>>(await api('GET', '/clients'))
    expect(list.map((c) => [c.client_id, c.built_in])).toEqual(
      expect.arrayContaining([
        ['mqtt-oidc-admin', true],
        ['mqtt-oidc-cli', true],
        ['gateway-app', false],
      ]),
    )
    expect(list.map((c) => c.client_id)).toEqual([...list.map((c) => c.client_id)].sort())
  })

  it('refuses what cannot work, naming every problem', async () => {
    await refused(
      await api('POST', '/clients', {
        client_id: 'a1',
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
      }),
      400,
      {
        error: 'invalid_request',
        error_description:
          'grant_types: "client_credentials" cannot be registered; use authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code; token_endpoint_auth_method: a native app is a public client (none); it cannot keep a secret (RFC 8252 §8.5)',
      },
    )
    await refused(await api('POST', '/clients', { client_id: 'a2', application_type: 'web', redirect_uris: ['https://x.example/cb#frag'] }), 400, {
      error: 'invalid_request',
      error_description: 'redirect_uris must not contain fragments',
    })
    await refused(await api('POST', '/clients', { client_id: 'a3', application_type: 'native', redirect_uris: ['http://evil.example/cb'] }), 400, {
      error: 'invalid_request',
      error_description: 'redirect_uris for native clients using http as a protocol can only use loopback addresses as hostnames',
    })
    await refused(await api('POST', '/clients', { client_id: 'a4', scope: 'openid mqtt-oidc:admin' }), 400, {
      error: 'invalid_request',
      error_description:
        'redirect_uris: the authorization_code grant needs at least one; scope: unknown "mqtt-oidc:admin"; a client may have openid, offline_access, mqtt, groups',
    })
    await refused(await api('POST', '/clients', { client_id: 'bad id' }), 400, {
      error: 'invalid_request',
      error_description: 'client_id must be 1-128 letters, digits, ".", "_", "~" or "-"',
    })
    await refused(await api('POST', '/clients', { client_id: 'a5', secret: 'mine' }), 400, {
      error: 'invalid_request',
      error_description: 'Unrecognized key: "secret"',
    })
    await refused(await api('POST', '/clients', { client_id: 'mqtt-oidc-cli' }), 409, {
      error: 'conflict',
      error_description: 'client "mqtt-oidc-cli" is built in',
    })
    await refused(await api('POST', '/clients', { client_id: 'gateway-app', application_type: 'native' }), 409, {
      error: 'conflict',
      error_description: 'client "gateway-app" already exists',
    })
    expect(await t.store.oauthClients.get('a1')).toBeUndefined()
  })
})

describe('PATCH, POST .../secret and DELETE /admin/clients/:id', () => {
  it('changes only the fields given; a client that becomes confidential gets its secret once', async () => {
    await ok(
      await api('POST', '/clients', {
        client_id: 'svc',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['https://svc.example/cb'],
      }),
      201,
    )
    const changed = await ok(await api('PATCH', '/clients/svc', { token_endpoint_auth_method: 'client_secret_post', client_name: 'Service' }))
    expect(changed).toMatchObject({
      client_id: 'svc',
      client_name: 'Service',
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: ['https://svc.example/cb'],
      client_secret: expect.any(String),
    })
    const again = await ok(await api('PATCH', '/clients/svc', { redirect_uris: ['https://svc.example/cb2'] }))
    expect(again).not.toHaveProperty('client_secret')
  })

  it('rotates a secret: the old one stops working at once', async () => {
    const created = await ok<{ client_secret: string }>(
      await api('POST', '/clients', { client_id: 'rot', application_type: 'web', redirect_uris: ['https://rot.example/cb'] }),
      201,
    )
    const rotated = await ok<{ client_secret: string }>(await api('POST', '/clients/rot/secret'))
    expect(rotated).toEqual({ client_id: 'rot', client_secret: expect.any(String) })
    const introspect = (secret: string) =>
      fetch(`${t.issuer}/token/introspection`, { method: 'POST', headers: { authorization: basic('rot', secret) }, body: new URLSearchParams({ token: 'x' }) })
    expect((await introspect(created.client_secret)).status).toBe(401)
    expect((await introspect(rotated.client_secret)).status).toBe(200)
    await refused(await api('POST', '/clients/gateway-app/secret'), 400, {
      error: 'invalid_request',
      error_description: 'client "gateway-app" is public (token_endpoint_auth_method none): it has no secret',
    })
  })

  it('removes a client: its next request is refused without a restart', async () => {
    await ok(await api('POST', '/clients', { client_id: 'gone', application_type: 'native' }), 201)
    const device = (clientId: string) =>
      fetch(`${t.issuer}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: clientId, scope: 'openid' }) })
    expect((await device('gone')).status).toBe(200)
    expect((await api('DELETE', '/clients/gone')).status).toBe(204)
    await refused(await device('gone'), 401, { error: 'invalid_client', error_description: 'client authentication failed' })
    await refused(await api('DELETE', '/clients/gone'), 404, { error: 'not_found', error_description: 'no client "gone"' })
  })

  it('leaves the built-in clients alone', async () => {
    for (const [method, path] of [
      ['PATCH', '/clients/mqtt-oidc-cli'],
      ['DELETE', '/clients/mqtt-oidc-admin'],
      ['POST', '/clients/mqtt-oidc-admin/secret'],
    ] as const) {
      const body = method === 'PATCH' ? { client_name: 'x' } : undefined
      const id = path.split('/')[2]
      await refused(await api(method, path, body), 400, {
        error: 'invalid_request',
        error_description: `client "${id}" is built into the IdP; it cannot be changed or removed here`,
      })
    }
  })
})

describe('registered public clients at the token endpoints', () => {
  // oidc-agent's way: Authorization: Basic base64("<client_id>:") and no client_id in the form.
  it('take a Basic header with an empty secret as the none method they are registered with', async () => {
    await ok(await api('POST', '/clients', { client_id: 'agent', application_type: 'native', redirect_uris: ['http://localhost'] }), 201)
    const header = { authorization: basic('agent', '') }
    const da = await ok<{ device_code: string; verification_uri_complete: string }>(
      await fetch(`${t.issuer}/device/auth`, {
        method: 'POST',
        headers: header,
        body: new URLSearchParams({ scope: 'openid offline_access mqtt' }),
      }),
    )
    await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...ALICE })
    const tokens = await ok<{ refresh_token: string; id_token: string }>(
      await fetch(`${t.issuer}/token`, {
        method: 'POST',
        headers: header,
        body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: da.device_code }),
      }),
    )
    expect(tokens).toMatchObject({ id_token: expect.any(String), refresh_token: expect.any(String) })
    const refreshed = await fetch(`${t.issuer}/token`, {
      method: 'POST',
      headers: header,
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    })
    expect(refreshed.status).toBe(200)
  })

  it('still refuse an empty secret for a confidential client, and a header naming another client than the form', async () => {
    await refused(
      await fetch(`${t.issuer}/token`, {
        method: 'POST',
        headers: { authorization: basic('dashboard', '') },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
      }),
      400,
      { error: 'invalid_request', error_description: 'client_secret must be provided in the Authorization header' },
    )
    await refused(
      await fetch(`${t.issuer}/device/auth`, {
        method: 'POST',
        headers: { authorization: basic('agent', '') },
        body: new URLSearchParams({ client_id: 'gateway-app', scope: 'openid' }),
      }),
      400,
      { error: 'invalid_request', error_description: 'client_id mismatch' },
    )
  })

  // RFC 8252 §7.3: the port of a loopback redirect URI is the app's choice at request time.
  it('accept any port on the loopback host they registered (127.0.0.1, [::1], localhost)', async () => {
    await ok(
      await api('POST', '/clients', {
        client_id: 'loop',
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost'],
      }),
      201,
    )
    const config = await oidc.discovery(new URL(t.issuer), 'loop', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] })
    const redirects = async (redirectUri: string) => {
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      })
      const res = await fetch(url, { redirect: 'manual' })
      // Accepted: on to the login interaction. Refused: an error page (never a redirect to an unregistered URI).
      return res.status === 303 && new URL(res.headers.get('location') ?? '', t.issuer).pathname.startsWith('/interaction')
        ? 'accepted'
        : `refused ${res.status}`
    }
    expect(await redirects('http://127.0.0.1:51234/callback')).toBe('accepted')
    expect(await redirects('http://[::1]:40001/callback')).toBe('accepted')
    expect(await redirects('http://localhost:4242')).toBe('accepted')
    expect(await redirects('http://127.0.0.1:51234/other')).toBe('refused 400')
    expect(await redirects('http://localhost:4242/callback')).toBe('refused 400')
    expect(await redirects('http://127.0.0.2:4242/callback')).toBe('refused 400')
  })
})
