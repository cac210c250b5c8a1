import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAccount } from '../src/index.js'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { DEVICE_GRANT, startTestIdp, type TestIdp } from './support/test-idp.js'
import { adminToken } from './support/admin-api.js'

// RFC 7591 dynamic client registration, off unless configured; then only with an
// initial access token an admin made, and under the admin API's rules.

const ALICE = { username: 'alice', password: 'correct horse battery' }
let off: TestIdp
let on: TestIdp

beforeAll(async () => {
  off = await startTestIdp()
  on = await startTestIdp({ dynamicRegistration: true }, async (store) => {
    await createAccount(store, { ...ALICE, clientIds: ['alice-1'] })
  })
})
afterAll(async () => {
  await off?.close()
  await on?.close()
})

async function registrationToken(t: TestIdp, body: unknown = {}): Promise<Response> {
  return fetch(`${t.issuer}/admin/registration-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken(t.issuer)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

const register = (t: TestIdp, metadata: unknown, token?: string) =>
  fetch(`${t.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(metadata),
  })

describe('RFC 7591 dynamic registration', () => {
  it('is off by default: no registration_endpoint, no /reg, and the admin API makes no token for it', async () => {
    const metadata = (await (await fetch(`${off.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>
    expect(metadata).not.toHaveProperty('registration_endpoint')
    expect((await register(off, { redirect_uris: ['https://x.example/cb'] })).status).toBe(404)
    const res = await registrationToken(off)
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'dynamic client registration is off (MQTT_OIDC_IDP_DYNAMIC_REGISTRATION=true turns it on)' },
    })
  })

  it('when on, is advertised, and refuses a registration without an initial access token', async () => {
    const metadata = (await (await fetch(`${on.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>
    expect(metadata.registration_endpoint).toBe(`${on.issuer}/reg`)
    const res = await register(on, { application_type: 'native' })
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'no access token provided' })
    expect((await register(on, { application_type: 'native' }, 'made-up')).status).toBe(401)
  })

  it("registers a native app as a public client with the admin API's defaults; it signs in at once", async () => {
    const made = await registrationToken(on, { expires_in: 600 })
    const { initial_access_token: token, expires_in: expiresIn } = (await made.json()) as { initial_access_token: string; expires_in: number }
    expect([made.status, expiresIn]).toEqual([201, 600])
    const res = await register(
      on,
      { application_type: 'native', client_name: 'Shop floor app', grant_types: [DEVICE_GRANT, 'refresh_token'], response_types: [] },
      token,
    )
    const body = (await res.json()) as Record<string, unknown>
    expect(res.status, JSON.stringify(body)).toBe(201)
    expect(body).toMatchObject({
      client_id: expect.any(String),
      token_endpoint_auth_method: 'none',
      scope: 'openid offline_access mqtt groups',
      application_type: 'native',
    })
    expect(body).not.toHaveProperty('client_secret')
    expect(body).not.toHaveProperty('registration_access_token')
    const clientId = String(body.client_id)
    expect(await on.store.oauthClients.get(clientId)).toMatchObject({ name: 'Shop floor app', tokenEndpointAuthMethod: 'none', secretHash: null })

    const da = (await (
      await fetch(`${on.issuer}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: clientId, scope: 'openid mqtt' }) })
    ).json()) as Record<string, string>
    await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...ALICE })
    const tokens = await (
      await fetch(`${on.issuer}/token`, {
        method: 'POST',
        body: new URLSearchParams({ client_id: clientId, grant_type: DEVICE_GRANT, device_code: da.device_code ?? '' }),
      })
    ).json()
    expect(tokens).toMatchObject({ id_token: expect.any(String) })
  })

  it('gives a web app its secret once and stores only the hash; the secret authenticates', async () => {
    const { initial_access_token: token } = (await (await registrationToken(on)).json()) as { initial_access_token: string }
    const res = await register(on, { redirect_uris: ['https://dash.example/cb'], client_name: 'Dashboard' }, token)
    const body = (await res.json()) as Record<string, unknown>
    expect(res.status, JSON.stringify(body)).toBe(201)
    expect(body).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', client_secret: expect.any(String), client_secret_expires_at: 0 })
    const stored = await on.store.oauthClients.get(String(body.client_id))
    expect(stored?.secretHash).toMatch(/^sha256:/)
    expect(JSON.stringify(stored)).not.toContain(String(body.client_secret))
    const introspect = await fetch(`${on.issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${String(body.client_id)}:${String(body.client_secret)}`).toString('base64')}` },
      body: new URLSearchParams({ token: 'x' }),
    })
    expect(introspect.status).toBe(200)
  })

  it('refuses what the admin API refuses (invalid_client_metadata), naming every problem', async () => {
    const { initial_access_token: token } = (await (await registrationToken(on)).json()) as { initial_access_token: string }
    const res = await register(
      on,
      {
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        scope: 'openid mqtt-oidc:admin',
      },
      token,
    )
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400,
      body: {
        error: 'invalid_client_metadata',
        error_description:
          'grant_types: "client_credentials" cannot be registered; use authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code; token_endpoint_auth_method: a native app is a public client (none); it cannot keep a secret (RFC 8252 §8.5); scope: unknown "mqtt-oidc:admin"; a client may have openid, offline_access, mqtt, groups',
      },
    })
  })
})
