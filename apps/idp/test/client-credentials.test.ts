import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { ADMIN_SECRET, EXCHANGE_URL, startTestIdp, type TestIdp } from './support/test-idp.js'

let t: TestIdp
let issuer: string

beforeAll(async () => {
  t = await startTestIdp()
  issuer = t.issuer
})
afterAll(async () => {
  await t?.close()
})

async function adminToken(params: Record<string, string>, secret = ADMIN_SECRET): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`mqtt-oidc-admin:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  })
}

describe('POST /token grant_type=client_credentials (admin client)', () => {
  it('issues an at+jwt access token for the exchange with the admin scope', async () => {
    const res = await adminToken({ resource: EXCHANGE_URL, scope: 'mqtt-oidc:admin' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { access_token: string }
    expect(body).toEqual({ access_token: expect.any(String), expires_in: 600, scope: 'mqtt-oidc:admin', token_type: 'Bearer' })
    const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`))
    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer, audience: EXCHANGE_URL, typ: 'at+jwt' })
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' })
    expect(payload).toMatchObject({ sub: 'mqtt-oidc-admin', client_id: 'mqtt-oidc-admin', scope: 'mqtt-oidc:admin', aud: EXCHANGE_URL })
  })

  it('refuses a resource other than the exchange with invalid_target', async () => {
    const res = await adminToken({ resource: 'http://127.0.0.1:9999', scope: 'mqtt-oidc:admin' })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'invalid_target', error_description: 'resource indicator is missing, or unknown' })
  })

  it('refuses a wrong client secret with invalid_client', async () => {
    const res = await adminToken({ resource: EXCHANGE_URL, scope: 'mqtt-oidc:admin' }, 'wrong-secret')
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' })
  })
})
