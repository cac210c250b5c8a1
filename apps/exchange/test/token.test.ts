import { KeyObject, sign } from 'node:crypto'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SignJWT, UnsecuredJWT, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { BROKER_TOKEN_TYP, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
let ex: Running

beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})
beforeEach(async () => {
  ex = await startExchange(idp, { maxLifetime: 3600 })
  await ensureBroker(ex.store, { id: 'demo', url: 'mqtt://localhost:1883' })
})
afterEach(async () => {
  await ex.close()
})

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
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toEqual({
      access_token: expect.any(String),
      issued_token_type: TOKEN_TYPE.jwt,
      token_type: 'N_A',
      expires_in: 3600,
    })
    const token = body.access_token as string
    const jwks = createRemoteJWKSet(new URL(`${ex.url}/.well-known/jwks.json`))
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ex.exchange.issuer,
      audience: 'demo',
      typ: BROKER_TOKEN_TYP,
      algorithms: ['EdDSA'],
    })
    const { keys } = (await (await fetch(`${ex.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: keys[0]!.kid, typ: 'mqtt-broker+jwt' })
    expect(payload).toEqual({
      iss: ex.exchange.issuer,
      aud: 'demo',
      sub: 'gateway-1',
      username: 'alice',
      jti: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      iat: expect.any(Number),
      nbf: payload.iat,
      exp: (payload.iat ?? 0) + 3600,
      acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] },
    })
    expect(payload.iat).toBeGreaterThanOrEqual(before)
    const record = await ex.store.credentials.get('demo', payload.jti!)
    expect(record).toEqual({
      jti: payload.jti,
      broker: 'demo',
      clientId: 'gateway-1',
      username: 'alice',
      issuedAt: payload.iat,
      expiresAt: payload.exp,
      source: 'exchange',
      issuedBy: 'account-1',
    })
  })

  it('caps the lifetime at the broker expiration when it is shorter than the maximum', async () => {
    await ex.store.brokers.update('demo', { expiration: 600 })
    const res = await ex.exchangeToken(form(await idp.idToken(), { requested_token_type: TOKEN_TYPE.jwt }))
    const body = (await res.json()) as { access_token: string; expires_in: number }
    const claims = decodeJwt(body.access_token)
    expect(body.expires_in).toBe(600)
    expect(claims.exp! - claims.iat!).toBe(600)
  })

  it('caps the lifetime at the configured maximum when the broker allows longer', async () => {
    await ex.store.brokers.update('demo', { expiration: 7 * 86400 })
    const res = await ex.exchangeToken(form(await idp.idToken()))
    const claims = decodeJwt(((await res.json()) as { access_token: string }).access_token)
    expect(claims.exp! - claims.iat!).toBe(3600)
  })

  it('accepts the jwt subject_token_type and an mqtt:// resource naming the broker', async () => {
    const f = form(await idp.idToken(), { subject_token_type: TOKEN_TYPE.jwt, resource: 'mqtt://localhost:1883/demo' })
    delete f.audience
    const res = await ex.exchangeToken(f)
    expect(res.status).toBe(200)
    expect(decodeJwt(((await res.json()) as { access_token: string }).access_token).aud).toBe('demo')
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
      .setProtectedHeader({ alg: 'HS256', kid: idp.kid })
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'))
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
    const brokerToken = ((await first.json()) as { access_token: string }).access_token
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
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(form(await idp.idToken())),
    })
    await refused(res, 400, { error: 'invalid_request', error_description: 'the token request must be application/x-www-form-urlencoded' })
  })

  it('refuses a body over 64 KiB, a charset other than UTF-8 and more than 50 parameters, and still answers the next request', async () => {
    const subjectToken = await idp.idToken()
    const big = await fetch(`${ex.url}/token`, { method: 'POST', body: new URLSearchParams(form(subjectToken, { scope: 'x'.repeat(70_000) })) })
    await refused(big, 400, { error: 'invalid_request', error_description: 'the request body is too large' })
    const latin1 = await fetch(`${ex.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
      body: new URLSearchParams(form(subjectToken)).toString(),
    })
    await refused(latin1, 400, { error: 'invalid_request', error_description: 'the request body cannot be read' })
    const many = new URLSearchParams(form(subjectToken))
    for (let i = 0; i < 50; i++) many.append(`x${i}`, '1')
    await refused(await fetch(`${ex.url}/token`, { method: 'POST', body: many }), 400, {
      error: 'invalid_request',
      error_description: 'the request body cannot be read',
    })
    expect((await ex.exchangeToken(form(subjectToken))).status).toBe(200)
  })

  it('records every token of a burst before answering it (group commit)', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const res = await ex.exchangeToken(form(await idp.idToken({ sub: `account-${i}`, clientid: `gateway-of-${i}` })))
        const { access_token: token } = (await res.json()) as { access_token: string }
        // checked the moment the answer is in: its record must already be committed
        expect(await ex.store.credentials.get('demo', decodeJwt(token).jti!)).toMatchObject({ source: 'exchange', issuedBy: `account-${i}` })
        return token
      }),
    )
    expect(new Set(tokens.map((t) => decodeJwt(t).jti)).size).toBe(60)
    expect(await ex.store.credentials.countLive('demo', now(), 'exchange')).toBe(60)
  })

  it('leaves every other method and path to the rest of the API', async () => {
    const res = await fetch(`${ex.url}/token`)
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 404, body: { error: 'not_found', error_description: 'no route for GET /token' } })
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

describe("POST /token: the strict JWT rules on subject tokens (the same as the brokers')", () => {
  /** An ID token signed over this exact payload text (JSON.stringify cannot name a claim twice). */
  const idTokenText = (payload: string): string => {
    const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: idp.kid })).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`
    return `${input}.${sign('sha256', Buffer.from(input), KeyObject.from(idp.privateKey)).toString('base64url')}`
  }
  const payload = (extra: string): string =>
    `{"iss":${JSON.stringify(idp.issuer)},"aud":"mqtt-oidc-cli","sub":"account-1","clientid":"gateway-1","iat":${now()},"exp":${now() + 300}${extra}}`

  it('refuses an ID token naming a claim twice, which JSON.parse would read as its last value', async () => {
    expect((await ex.exchangeToken(form(idTokenText(payload(''))))).status).toBe(200)
    await refused(await ex.exchangeToken(form(idTokenText(payload(',"clientid":"someone-else"')))), 400, {
      error: 'invalid_request',
      error_description: 'subject_token payload names "clientid" more than once',
    })
  })

  it('refuses an access token or a logout token of the IdP presented as an ID token', async () => {
    for (const typ of ['at+jwt', 'logout+jwt', 'application/logout+jwt']) {
      await refused(await ex.exchangeToken(form(await idp.idToken({}, { typ }))), 400, {
        error: 'invalid_request',
        error_description: 'subject_token has the wrong typ header',
      })
    }
    expect((await ex.exchangeToken(form(await idp.idToken({}, { typ: 'JWT' })))).status).toBe(200)
  })

  it('refuses an ID token issued in the future beyond the clock tolerance', async () => {
    await refused(await ex.exchangeToken(form(await idp.idToken({ iat: now() + 120 }))), 400, {
      error: 'invalid_request',
      error_description: 'subject_token was issued in the future (check the clocks)',
    })
  })

  it('refuses times written in milliseconds', async () => {
    await refused(await ex.exchangeToken(form(await idp.idToken({ exp: Date.now() + 300_000 }))), 400, {
      error: 'invalid_request',
      error_description: 'subject_token has an invalid exp claim: a time in milliseconds (NumericDate is in seconds)',
    })
  })

  it('refuses an ID token whose aud names another client too (OpenID Connect Core 3.1.3.7)', async () => {
    await refused(await ex.exchangeToken(form(await idp.idToken({ aud: ['mqtt-oidc-cli', 'some-other-client'] }))), 400, {
      error: 'invalid_request',
      error_description: 'subject_token audience names other recipients too',
    })
  })
})

// The metadata says token_endpoint_auth_methods_supported: ["none"]: any client credentials are
// an authentication this endpoint cannot perform, so they fail as RFC 6749 §5.2 says (invalid_client;
// 401 with a WWW-Authenticate of the scheme the client used when it sent an Authorization header).
describe('POST /token client authentication (none only)', () => {
  const NO_CREDENTIALS =
    'this token endpoint authenticates no clients (token_endpoint_auth_methods_supported: ["none"]); send the request without client credentials'
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
    const bodies: Array<Record<string, string>> = [
      { client_secret: 's' },
      { client_assertion: 'a.b.c', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
    ]
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
