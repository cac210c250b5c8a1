import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SignJWT, UnsecuredJWT, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { BROKER_TOKEN_TYP, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now, startTestIdp } from './support/test-idp.js'
import type { TestIdp } from './support/test-idp.js'

let idp: TestIdp
let ex: Running

beforeAll(async () => { idp = await startTestIdp() })
afterAll(async () => { await idp.close() })
beforeEach(async () => {
  ex = await startExchange(idp, { maxLifetime: 3600 })
  await ensureBroker(ex.store, { id: 'demo', url: 'mqtt://localhost:1883' })
})
afterEach(async () => { await ex.close() })

const form = (subjectToken: string, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: subjectToken,
  subject_token_type: TOKEN_TYPE.idToken,
  audience: 'demo',
  ...extra,
})

async function refused(res: Response, status: number, body: Record<string, string>): Promise<void> {
  expect({ status: res.status, body: await res.json() }).toEqual({ status, body })
  expect(res.headers.get('cache-control')).toBe('no-store')
}

describe('POST /token grant_type=token-exchange', () => {
  it('exchanges an ID token for an EdDSA broker token carrying the broker ACL template', async () => {
    const before = now()
    const res = await ex.exchangeToken(form(await idp.idToken()))
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = await res.json() as Record<string, unknown>
    expect(body).toEqual({
      access_token: expect.any(String), issued_token_type: TOKEN_TYPE.jwt, token_type: 'N_A', expires_in: 3600,
    })
    const token = body.access_token as string
    const jwks = createRemoteJWKSet(new URL(`${ex.url}/.well-known/jwks.json`))
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ex.exchange.issuer, audience: 'demo', typ: BROKER_TOKEN_TYP, algorithms: ['EdDSA'],
    })
    const { keys } = await (await fetch(`${ex.url}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] }
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: keys[0]!.kid, typ: 'mqtt-broker+jwt' })
    expect(payload).toEqual({
      iss: ex.exchange.issuer, aud: 'demo', sub: 'gateway-1', username: 'alice', jti: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      iat: expect.any(Number), nbf: payload.iat, exp: (payload.iat ?? 0) + 3600,
      acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] },
    })
    expect(payload.iat).toBeGreaterThanOrEqual(before)
    const record = await ex.store.credentials.get('demo', payload.jti!)
    expect(record).toEqual({
      jti: payload.jti, broker: 'demo', clientId: 'gateway-1', username: 'alice', issuedAt: payload.iat,
      expiresAt: payload.exp, source: 'exchange', issuedBy: 'account-1',
    })
  })

  it('caps the lifetime at the broker expiration when it is shorter than the maximum', async () => {
    await ex.store.brokers.update('demo', { expiration: 600 })
    const res = await ex.exchangeToken(form(await idp.idToken(), { requested_token_type: TOKEN_TYPE.jwt }))
    const body = await res.json() as { access_token: string; expires_in: number }
    const claims = decodeJwt(body.access_token)
    expect(body.expires_in).toBe(600)
    expect(claims.exp! - claims.iat!).toBe(600)
  })

  it('caps the lifetime at the configured maximum when the broker allows longer', async () => {
    await ex.store.brokers.update('demo', { expiration: 7 * 86400 })
    const res = await ex.exchangeToken(form(await idp.idToken()))
    const claims = decodeJwt((await res.json() as { access_token: string }).access_token)
    expect(claims.exp! - claims.iat!).toBe(3600)
  })

  it('accepts the jwt subject_token_type and an mqtt:// resource naming the broker', async () => {
    const f = form(await idp.idToken(), { subject_token_type: TOKEN_TYPE.jwt, resource: 'mqtt://localhost:1883/demo' })
    delete f.audience
    const res = await ex.exchangeToken(f)
    expect(res.status).toBe(200)
    expect(decodeJwt((await res.json() as { access_token: string }).access_token).aud).toBe('demo')
  })

  it('refuses an ID token issued to another client with invalid_request', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken({ aud: 'some-other-client' })))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token audience is not accepted here' })
  })

  it('refuses an expired ID token', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken({ iat: now() - 7200, exp: now() - 3600 })))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token has expired' })
  })

  it('refuses an ID token without exp', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken({ exp: undefined })))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token has no exp claim' })
  })

  it('refuses an ID token from another issuer', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken({ iss: 'https://evil.example' })))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token issuer is not trusted' })
  })

  it('refuses an unsigned (alg none) token', async () => {
    const token = new UnsecuredJWT({ iss: idp.issuer, aud: 'mqtt-oidc-cli', sub: 'a', clientid: 'x', exp: now() + 60 }).encode()
    const res = await ex.exchangeToken(form(token))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token alg is not allowed' })
  })

  it('refuses an HS256 token', async () => {
    const token = await new SignJWT({ iss: idp.issuer, aud: 'mqtt-oidc-cli', sub: 'a', clientid: 'x', exp: now() + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: idp.kid }).sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'))
    const res = await ex.exchangeToken(form(token))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token alg is not allowed' })
  })

  it('refuses a token whose signature does not verify', async () => {
    const [h, p] = (await idp.idToken()).split('.')
    const forged = `${h}.${p}.${(await idp.idToken({ sub: 'other' })).split('.')[2]}`
    const res = await ex.exchangeToken(form(forged))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token signature is invalid' })
  })

  it('refuses a broker token as subject token (no privilege chaining)', async () => {
    const first = await ex.exchangeToken(form(await idp.idToken()))
    const brokerToken = (await first.json() as { access_token: string }).access_token
    expect(decodeProtectedHeader(brokerToken).typ).toBe(BROKER_TOKEN_TYP)
    const res = await ex.exchangeToken(form(brokerToken, { subject_token_type: TOKEN_TYPE.jwt }))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token is a broker token; broker tokens cannot be exchanged' })
  })

  it('refuses an ID token without a clientid claim', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken({ clientid: undefined })))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token has no usable clientid claim (ask for scope mqtt)' })
  })

  it('refuses a garbage subject token without echoing it', async () => {
    const res = await ex.exchangeToken(form('not-a-jwt-secret-value'))
    await refused(res, 400, { error: 'invalid_request', error_description: 'subject_token is not a well-formed signed JWT' })
  })

  it('refuses an unknown broker with invalid_target', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken(), { audience: 'nope' }))
    await refused(res, 400, { error: 'invalid_target', error_description: 'unknown broker "nope"' })
  })

  it('refuses another grant type with unsupported_grant_type', async () => {
    const res = await ex.exchangeToken({ ...form(await idp.idToken()), grant_type: 'client_credentials' })
    await refused(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type must be ${TOKEN_EXCHANGE_GRANT}` })
  })

  // RFC 8693 §2.2.2: an invalid request is invalid_request; unsupported_token_type is RFC 7009's (revocation) code.
  it('refuses an unsupported subject_token_type with invalid_request', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken(), { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }))
    await refused(res, 400, {
      error: 'invalid_request',
      error_description: `subject_token_type must be ${TOKEN_TYPE.idToken} or ${TOKEN_TYPE.accessToken} or ${TOKEN_TYPE.jwt}`,
    })
  })

  it('refuses a requested_token_type other than jwt with invalid_request', async () => {
    const res = await ex.exchangeToken(form(await idp.idToken(), { requested_token_type: TOKEN_TYPE.accessToken }))
    await refused(res, 400, { error: 'invalid_request', error_description: `requested_token_type must be ${TOKEN_TYPE.jwt}` })
  })

  it('refuses a request without audience', async () => {
    const f = form(await idp.idToken())
    delete f.audience
    await refused(await ex.exchangeToken(f), 400, { error: 'invalid_request', error_description: 'audience (the broker id) is required' })
  })

  it('refuses a JSON body', async () => {
    const res = await fetch(`${ex.url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(form(await idp.idToken())),
    })
    await refused(res, 400, { error: 'invalid_request', error_description: 'the token request must be application/x-www-form-urlencoded' })
  })

  it('refuses a repeated parameter', async () => {
    const body = new URLSearchParams(form(await idp.idToken()))
    body.append('subject_token_type', TOKEN_TYPE.jwt)
    const res = await fetch(`${ex.url}/token`, { method: 'POST', body })
    await refused(res, 400, { error: 'invalid_request', error_description: 'parameter subject_token_type must be given once' })
  })

  it('refuses several audiences with invalid_target: one token, one broker', async () => {
    const body = new URLSearchParams(form(await idp.idToken()))
    body.append('audience', 'other')
    const res = await fetch(`${ex.url}/token`, { method: 'POST', body })
    await refused(res, 400, { error: 'invalid_target', error_description: 'a token is for exactly one broker; give one audience' })
  })

  it('answers 503 temporarily_unavailable when the IdP keys cannot be fetched', async () => {
    const offline = await startExchange(idp, { idp: { issuer: idp.issuer, jwksUri: 'http://127.0.0.1:9/jwks' } })
    await ensureBroker(offline.store, { id: 'demo' })
    try {
      const res = await offline.exchangeToken(form(await idp.idToken()))
      await refused(res, 503, { error: 'temporarily_unavailable', error_description: "the identity provider's keys are unavailable" })
    } finally {
      await offline.close()
    }
  })
})

// The metadata says token_endpoint_auth_methods_supported: ["none"]: any client credentials are
// an authentication this endpoint cannot perform, so they fail as RFC 6749 §5.2 says (invalid_client;
// 401 with a WWW-Authenticate of the scheme the client used when it sent an Authorization header).
describe('POST /token client authentication (none only)', () => {
  const NO_CREDENTIALS = 'this token endpoint authenticates no clients (token_endpoint_auth_methods_supported: ["none"]); send the request without client credentials'
  const post = (body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${ex.url}/token`, { method: 'POST', headers, body: new URLSearchParams(body) })
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

  it('refuses a Basic header with a wrong secret: 401 invalid_client with WWW-Authenticate Basic', async () => {
    const res = await post(form(await idp.idToken()), { authorization: basic('mqtt-oidc-cli', 'wrong') })
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="mqtt-oidc"')
    await refused(res, 401, { error: 'invalid_client', error_description: NO_CREDENTIALS })
  })

  it('refuses a Basic header with an empty secret the same way', async () => {
    const res = await post(form(await idp.idToken()), { authorization: basic('mqtt-oidc-cli', '') })
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="mqtt-oidc"')
    await refused(res, 401, { error: 'invalid_client', error_description: NO_CREDENTIALS })
  })

  it('answers a Bearer header with a Bearer challenge', async () => {
    const res = await post(form(await idp.idToken()), { authorization: 'Bearer abc' })
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="mqtt-oidc"')
    await refused(res, 401, { error: 'invalid_client', error_description: NO_CREDENTIALS })
  })

  it('refuses client_secret or client_assertion in the body (401 invalid_client, no challenge)', async () => {
    const bodies: Array<Record<string, string>> = [{ client_secret: 's' }, { client_assertion: 'a.b.c', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }]
    for (const extra of bodies) {
      const res = await post(form(await idp.idToken(), { client_id: 'mqtt-oidc-cli', ...extra }))
      expect(res.headers.get('www-authenticate')).toBeNull()
      await refused(res, 401, { error: 'invalid_client', error_description: NO_CREDENTIALS })
    }
  })

  it('accepts a client_id without credentials (the none method)', async () => {
    const res = await post(form(await idp.idToken(), { client_id: 'mqtt-oidc-cli' }))
    expect(res.status).toBe(200)
  })
})
