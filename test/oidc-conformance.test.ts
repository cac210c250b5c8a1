import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminClient, createIdpAdminClient, type AdminClient, type IdpAdminClient } from '@mqtt-oidc/client'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { now, startTestIdp as startJwtIssuer, type TestIdp as JwtIssuer } from '@mqtt-oidc/test-support/test-idp'
import { completeAuthCodeLogin, completeDeviceLogin, ScriptedBrowser, type BrowserPage } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// The metadata both authorization servers publish, checked field by field
// against OpenID Connect Discovery 1.0 §3, RFC 8414 §2 and RFC 8628 §4, and by
// a validator nobody here wrote (python3-authlib); then every endpoint, grant
// type, response type and mode, client authentication method, signing
// algorithm, scope and claim they advertise is used for real. Nothing is
// advertised that this file does not drive.

const PYTHON = '/usr/bin/python3'
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const REDIRECT = 'https://rp.example/cb'
const CLIENT_IDS = ['mqtt-oidc-cli', 'conf-basic', 'conf-post', 'conf-es256', 'conf-eddsa']

let stack: TestStack
let jwtIssuer: JwtIssuer
let idp: Record<string, unknown>
let exchange: Record<string, unknown>
let idpAdmin: IdpAdminClient
let admin: AdminClient
const secrets: Record<string, string> = {}

beforeAll(async () => {
  jwtIssuer = await startJwtIssuer()
  stack = await startTestStack({
    idpClientIds: CLIENT_IDS,
    trustedIssuers: [{ issuer: jwtIssuer.issuer, clientIds: ['gateway-app'], clientIdClaim: 'device_id' }],
  })
  idp = await getJson(`${stack.idpUrl}/.well-known/openid-configuration`)
  exchange = await getJson(`${stack.exchangeUrl}/.well-known/oauth-authorization-server`)
  idpAdmin = createIdpAdminClient({ dataDir: stack.dataDir })
  admin = createAdminClient({ dataDir: stack.dataDir })
  const web = { application_type: 'web', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'] } as const
  for (const [id, extra] of [
    ['conf-basic', { token_endpoint_auth_method: 'client_secret_basic' }],
    ['conf-post', { token_endpoint_auth_method: 'client_secret_post' }],
    ['conf-es256', { id_token_signed_response_alg: 'ES256' }],
    ['conf-eddsa', { id_token_signed_response_alg: 'EdDSA' }],
  ] as const) {
    secrets[id] = (await idpAdmin.createClient({ client_id: id, ...web, ...extra })).client_secret ?? ''
  }
}, 60_000)
afterAll(async () => {
  await stack?.close()
  await jwtIssuer?.close()
})

async function getJson(url: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers })
  expect(res.status, url).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  return (await res.json()) as Record<string, unknown>
}

const str = (doc: Record<string, unknown>, key: string): string => {
  const value = doc[key]
  if (typeof value !== 'string') throw new Error(`${key} is not a string`)
  return value
}
const list = (doc: Record<string, unknown>, key: string): string[] => {
  const value = doc[key]
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${key} is not a JSON array of strings`)
  return value
}

/** authlib's own validators (Debian's python3-authlib), plain HTTP allowed for loopback test servers. */
function authlibValidate(kind: 'oidc' | 'oauth', doc: Record<string, unknown>): string {
  const cls = kind === 'oidc' ? 'authlib.oidc.discovery.OpenIDProviderMetadata' : 'authlib.oauth2.rfc8414.AuthorizationServerMetadata'
  const script = `import json, os, sys, importlib\nos.environ['AUTHLIB_INSECURE_TRANSPORT'] = '1'\nm, c = '${cls}'.rsplit('.', 1)\ngetattr(importlib.import_module(m), c)(json.load(sys.stdin)).validate()\nprint('valid')`
  return execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(doc), encoding: 'utf8' }).trim()
}

/** Every field the document has that names an endpoint. */
const endpointsOf = (doc: Record<string, unknown>): string[] =>
  Object.keys(doc)
    .filter((k) => k.endsWith('_endpoint') || k === 'jwks_uri')
    .sort()

describe('metadata: OpenID Connect Discovery 1.0, RFC 8414 and RFC 8628 (IdP)', () => {
  it('has every REQUIRED field, with the values the specifications demand', () => {
    expect(str(idp, 'issuer')).toBe(stack.idpUrl)
    expect(new URL(str(idp, 'issuer')).search + new URL(str(idp, 'issuer')).hash).toBe('')
    for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) expect(str(idp, key).startsWith(`${stack.idpUrl}/`), key).toBe(true)
    expect(list(idp, 'response_types_supported')).toEqual(['code'])
    expect(list(idp, 'subject_types_supported')).toEqual(['public'])
    // Discovery §3: RS256 MUST be included.
    expect(list(idp, 'id_token_signing_alg_values_supported')).toEqual(['RS256', 'ES256', 'EdDSA'])
  })

  it('has every RECOMMENDED field but registration_endpoint, which stays off unless dynamic registration is enabled', () => {
    expect(str(idp, 'userinfo_endpoint')).toBe(`${stack.idpUrl}/me`)
    expect(list(idp, 'scopes_supported')).toEqual(['openid', 'offline_access', 'mqtt', 'groups'])
    expect(list(idp, 'claims_supported')).toEqual(['sub', 'clientid', 'username', 'groups', 'auth_time', 'iss'])
    expect(idp).not.toHaveProperty('registration_endpoint')
  })

  it('states how every endpoint authenticates clients (RFC 8414 §2), and no JWT methods that would need signing algorithms', () => {
    const methods = ['none', 'client_secret_basic', 'client_secret_post']
    expect(list(idp, 'token_endpoint_auth_methods_supported')).toEqual(methods)
    expect(list(idp, 'introspection_endpoint_auth_methods_supported')).toEqual(methods)
    expect(list(idp, 'revocation_endpoint_auth_methods_supported')).toEqual(methods)
    for (const key of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint'])
      expect(idp).not.toHaveProperty(`${key}_auth_signing_alg_values_supported`)
    expect(list(idp, 'code_challenge_methods_supported')).toEqual(['S256'])
  })

  it('advertises the device authorization endpoint with its grant type (RFC 8628 §4)', () => {
    expect(str(idp, 'device_authorization_endpoint')).toBe(`${stack.idpUrl}/device/auth`)
    expect(list(idp, 'grant_types_supported')).toEqual(['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT])
  })

  it('serves the same document at /.well-known/oauth-authorization-server (RFC 8414 §3), and authlib validates both', async () => {
    expect(await getJson(`${stack.idpUrl}/.well-known/oauth-authorization-server`)).toEqual(idp)
    expect(authlibValidate('oidc', idp)).toBe('valid')
    expect(authlibValidate('oauth', idp)).toBe('valid')
  })

  it('lists exactly the endpoints this file drives', () => {
    expect(endpointsOf(idp)).toEqual([
      'authorization_endpoint',
      'device_authorization_endpoint',
      'end_session_endpoint',
      'introspection_endpoint',
      'jwks_uri',
      'revocation_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
    ])
  })
})

describe('metadata: RFC 8414 (exchange)', () => {
  it('has every REQUIRED field; authorization_endpoint is absent because no grant it supports uses one', () => {
    expect(str(exchange, 'issuer')).toBe(stack.exchangeUrl)
    expect(str(exchange, 'token_endpoint')).toBe(`${stack.exchangeUrl}/token`)
    expect(list(exchange, 'response_types_supported')).toEqual(['none'])
    expect(exchange).not.toHaveProperty('authorization_endpoint')
    expect(list(exchange, 'grant_types_supported')).toEqual([TOKEN_EXCHANGE_GRANT])
  })

  // RECOMMENDED scopes_supported is left out: RFC 8414 §2 lets a server not advertise scope
  // values, and the exchange's are topic filters (pub:<filter>, sub:<filter>), not a list.
  it('leaves out scopes_supported (its scopes are topic-filter patterns) and states its client authentication', () => {
    expect(exchange).not.toHaveProperty('scopes_supported')
    expect(list(exchange, 'token_endpoint_auth_methods_supported')).toEqual(['none'])
    expect(endpointsOf(exchange)).toEqual(['jwks_uri', 'token_endpoint'])
    expect(authlibValidate('oauth', exchange)).toBe('valid')
  })
})

// ----- the IdP, used the way its metadata says -------------------------------------------------

interface Pkce {
  verifier: string
  challenge: string
}
function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizationUrl(clientId: string, p: Pkce, extra: Record<string, string> = {}): string {
  const url = new URL(str(idp, 'authorization_endpoint'))
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid mqtt groups offline_access',
    state: 'st',
    nonce: 'n0',
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    ...extra,
  }).toString()
  return url.href
}

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

/** POST to an endpoint of the IdP's metadata, authenticating as `clientId` with `method`. */
async function post(
  endpoint: string,
  clientId: string,
  method: 'none' | 'client_secret_basic' | 'client_secret_post',
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams(form)
  const headers: Record<string, string> = {}
  if (method === 'client_secret_basic') headers.authorization = basic(clientId, secrets[clientId] ?? '')
  else body.set('client_id', clientId)
  if (method === 'client_secret_post') body.set('client_secret', secrets[clientId] ?? '')
  const res = await fetch(str(idp, endpoint), { method: 'POST', headers, body })
  const text = await res.text() // revocation answers 200 with no body (RFC 7009 §2.2)
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> }
}

const user = () => ({ username: stack.demo.username, password: stack.demo.password })
let idpJwks: ReturnType<typeof createRemoteJWKSet>
const verifyIdToken = async (token: unknown, aud: string): Promise<{ payload: JWTPayload; alg: string }> => {
  idpJwks ??= createRemoteJWKSet(new URL(str(idp, 'jwks_uri')))
  const { payload, protectedHeader } = await jwtVerify(String(token), idpJwks, { issuer: stack.idpUrl, audience: aud })
  return { payload, alg: protectedHeader.alg }
}

describe('the IdP: every response mode, grant type, auth method, algorithm, scope and claim it advertises', () => {
  const browser = new ScriptedBrowser()
  let refreshToken = ''
  let accessToken = ''
  let subject = ''

  it('response_mode query: the code (and iss, RFC 9207) in the redirect query; authorization_code with client_secret_basic and PKCE S256; jwks_uri verifies the ID token', async () => {
    expect(idp.authorization_response_iss_parameter_supported).toBe(true)
    const p = pkce()
    // max_age: the ID token then carries auth_time (OIDC Core §3.1.2.1).
    const back = await completeAuthCodeLogin(authorizationUrl('conf-basic', p, { response_mode: 'query', max_age: '3600' }), { ...user(), browser })
    expect(back.origin + back.pathname).toBe(REDIRECT)
    expect(back.searchParams.get('iss')).toBe(stack.idpUrl)
    const tokens = await post('token_endpoint', 'conf-basic', 'client_secret_basic', {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT,
      code_verifier: p.verifier,
    })
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200)
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) })
    // scopes_supported: each one granted (offline_access: the refresh token above).
    expect(String(tokens.body.scope).split(' ').sort()).toEqual([...list(idp, 'scopes_supported')].sort())
    const { payload, alg } = await verifyIdToken(tokens.body.id_token, 'conf-basic')
    expect(alg).toBe('RS256')
    // claims_supported, each one there: mqtt gives clientid + username, groups the groups.
    for (const claim of list(idp, 'claims_supported')) expect(payload, claim).toHaveProperty(claim)
    expect(payload.nonce).toBe('n0')
    subject = String(payload.sub)
    refreshToken = String(tokens.body.refresh_token)
    accessToken = String(tokens.body.access_token)
  })

  it('userinfo_endpoint answers the access token with the same subject', async () => {
    const res = await fetch(str(idp, 'userinfo_endpoint'), { headers: { authorization: `Bearer ${accessToken}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ sub: expect.any(String), clientid: expect.any(String), username: stack.demo.username })
  })

  it('response_mode fragment and form_post deliver the code too; client_secret_post authenticates at the token endpoint', async () => {
    const p = pkce()
    const fragment = await completeAuthCodeLogin(authorizationUrl('conf-post', p, { response_mode: 'fragment' }), { ...user(), browser })
    expect(fragment.search).toBe('')
    const code = new URLSearchParams(fragment.hash.slice(1)).get('code') ?? ''
    const tokens = await post('token_endpoint', 'conf-post', 'client_secret_post', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: p.verifier,
    })
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200)

    // form_post: the browser is signed in and has consented, so the IdP answers at once with the auto-posting form.
    const q = pkce()
    const page = (await browser.get(authorizationUrl('conf-post', q, { response_mode: 'form_post' }))) as BrowserPage
    const form = page.forms.find((f) => f.action === REDIRECT)
    expect(form?.method).toBe('POST')
    const fields = Object.fromEntries(form?.fields ?? [])
    expect(fields).toMatchObject({ code: expect.any(String), state: 'st', iss: stack.idpUrl })
    const posted = await post('token_endpoint', 'conf-post', 'client_secret_post', {
      grant_type: 'authorization_code',
      code: fields.code ?? '',
      redirect_uri: REDIRECT,
      code_verifier: q.verifier,
    })
    expect(posted.status).toBe(200)
  })

  it('id_token_signing_alg_values_supported: a client gets ES256 or EdDSA ID tokens when it registered for them', async () => {
    for (const [clientId, expected] of [
      ['conf-es256', 'ES256'],
      ['conf-eddsa', 'EdDSA'],
    ] as const) {
      const p = pkce()
      const back = await completeAuthCodeLogin(authorizationUrl(clientId, p), { ...user(), browser })
      const tokens = await post('token_endpoint', clientId, 'client_secret_basic', {
        grant_type: 'authorization_code',
        code: back.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT,
        code_verifier: p.verifier,
      })
      const { payload, alg } = await verifyIdToken(tokens.body.id_token, clientId)
      expect(alg).toBe(expected)
      // subject_types_supported public: one account, one sub, whichever client asks.
      expect(payload.sub).toBe(subject)
    }
  })

  it('refresh_token rotates the refresh token and issues a new ID token', async () => {
    const refreshed = await post('token_endpoint', 'conf-basic', 'client_secret_basic', { grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200)
    expect(refreshed.body.refresh_token).not.toBe(refreshToken)
    await verifyIdToken(refreshed.body.id_token, 'conf-basic')
    refreshToken = String(refreshed.body.refresh_token)
    accessToken = String(refreshed.body.access_token)
  })

  it('introspection_endpoint and revocation_endpoint work with every advertised method (basic, post, none)', async () => {
    expect((await post('introspection_endpoint', 'conf-basic', 'client_secret_basic', { token: accessToken })).body).toMatchObject({
      active: true,
      client_id: 'conf-basic',
    })
    expect((await post('introspection_endpoint', 'conf-post', 'client_secret_post', { token: 'not-a-token' })).body).toEqual({ active: false })
    expect((await post('revocation_endpoint', 'conf-post', 'client_secret_post', { token: 'not-a-token' })).status).toBe(200)
    expect((await post('revocation_endpoint', 'conf-basic', 'client_secret_basic', { token: refreshToken, token_type_hint: 'refresh_token' })).status).toBe(200)
    expect(
      (await post('token_endpoint', 'conf-basic', 'client_secret_basic', { grant_type: 'refresh_token', refresh_token: refreshToken })).body,
    ).toMatchObject({ error: 'invalid_grant' })

    // none: the public CLI client, with tokens of its own from the device flow.
    const da = await post('device_authorization_endpoint', 'mqtt-oidc-cli', 'none', { scope: 'openid mqtt offline_access' })
    await completeDeviceLogin({ verificationUriComplete: String(da.body.verification_uri_complete), ...user(), browser })
    const tokens = await post('token_endpoint', 'mqtt-oidc-cli', 'none', { grant_type: DEVICE_GRANT, device_code: String(da.body.device_code) })
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200)
    expect((await post('introspection_endpoint', 'mqtt-oidc-cli', 'none', { token: String(tokens.body.access_token) })).body).toMatchObject({
      active: true,
      client_id: 'mqtt-oidc-cli',
    })
    expect((await post('revocation_endpoint', 'mqtt-oidc-cli', 'none', { token: String(tokens.body.access_token) })).status).toBe(200)
    expect((await post('introspection_endpoint', 'mqtt-oidc-cli', 'none', { token: String(tokens.body.access_token) })).body).toEqual({ active: false })
  })

  it("client_credentials gives the admin client a JWT access token for a resource (here the IdP's admin API)", async () => {
    const creds = JSON.parse(readFileSync(join(stack.dataDir, 'admin-client.json'), 'utf8')) as { clientId: string; clientSecret: string }
    const res = await fetch(str(idp, 'token_endpoint'), {
      method: 'POST',
      headers: { authorization: basic(creds.clientId, creds.clientSecret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mqtt-oidc:admin', resource: stack.idpUrl }),
    })
    const body = (await res.json()) as Record<string, unknown>
    expect(res.status, JSON.stringify(body)).toBe(200)
    idpJwks ??= createRemoteJWKSet(new URL(str(idp, 'jwks_uri')))
    const { payload } = await jwtVerify(String(body.access_token), idpJwks, { issuer: stack.idpUrl, audience: stack.idpUrl, typ: 'at+jwt' })
    expect(payload).toMatchObject({ client_id: creds.clientId, scope: 'mqtt-oidc:admin' })
    const registered = await fetch(`${stack.idpUrl}/admin/clients/conf-basic`, { headers: { authorization: `Bearer ${String(body.access_token)}` } })
    expect(registered.status).toBe(200)
  })

  it('end_session_endpoint asks the signed-in browser before it signs out (RP-initiated logout)', async () => {
    const page = (await browser.get(`${str(idp, 'end_session_endpoint')}?client_id=conf-basic`)) as BrowserPage
    expect(page.name).toBe('logout')
    const done = await browser.submit(page.forms[0] ?? { action: '', method: 'POST', fields: [] }, { logout: 'yes' })
    expect(done).toMatchObject({ name: 'logged-out', status: 200 })
  })

  it('does not take request_uri (request_uri_parameter_supported: false) and says it takes no claims parameter', async () => {
    expect(idp.request_uri_parameter_supported).toBe(false)
    expect(idp.claims_parameter_supported).toBe(false)
    const res = await fetch(authorizationUrl('conf-basic', pkce(), { request_uri: 'https://rp.example/request.jwt' }), { redirect: 'manual' })
    const location = new URL(res.headers.get('location') ?? '')
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'request_uri_not_supported', state: 'st' })
  })
})

// ----- the exchange, used the way its metadata says ---------------------------------------------

describe('the exchange: every subject token type, issued type and broker signing algorithm it advertises', () => {
  let idToken = ''
  const exchangeJwks = () => createRemoteJWKSet(new URL(str(exchange, 'jwks_uri')))
  const exchangeFor = async (subjectToken: string, subjectTokenType: string, audience = 'demo') => {
    const res = await fetch(str(exchange, 'token_endpoint'), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subjectToken, subject_token_type: subjectTokenType, audience }),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    const da = await post('device_authorization_endpoint', 'mqtt-oidc-cli', 'none', { scope: 'openid mqtt' })
    await completeDeviceLogin({ verificationUriComplete: String(da.body.verification_uri_complete), ...user() })
    idToken = String(
      (await post('token_endpoint', 'mqtt-oidc-cli', 'none', { grant_type: DEVICE_GRANT, device_code: String(da.body.device_code) })).body.id_token,
    )
  })

  it('subject_token_types_supported: an ID token, an RFC 9068 access token and a jwt of either kind', async () => {
    expect(list(exchange, 'subject_token_types_supported')).toEqual([TOKEN_TYPE.idToken, TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt])
    const accessToken = await jwtIssuer.sign(
      { iss: jwtIssuer.issuer, aud: stack.exchangeUrl, sub: 'u1', client_id: 'gateway-app', device_id: 'press-1', iat: now(), exp: now() + 300 },
      { typ: 'at+jwt' },
    )
    for (const [token, type] of [
      [idToken, TOKEN_TYPE.idToken],
      [idToken, TOKEN_TYPE.jwt],
      [accessToken, TOKEN_TYPE.accessToken],
      [accessToken, TOKEN_TYPE.jwt],
    ] as const) {
      const r = await exchangeFor(token, type)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      // issued_token_types_supported: jwt, verified with jwks_uri.
      expect(r.body).toMatchObject({ issued_token_type: TOKEN_TYPE.jwt, token_type: 'N_A' })
      expect(list(exchange, 'issued_token_types_supported')).toEqual([r.body.issued_token_type])
      await jwtVerify(String(r.body.access_token), exchangeJwks(), { issuer: stack.exchangeUrl, audience: 'demo', typ: 'mqtt-broker+jwt' })
    }
  })

  it("broker_token_signing_alg_values_supported: each algorithm signs a broker's tokens", async () => {
    const algs = list(exchange, 'broker_token_signing_alg_values_supported')
    expect(algs).toEqual(['EdDSA', 'ES256', 'RS256', 'HS256'])
    for (const alg of algs) {
      const id = `alg-${alg.toLowerCase()}`
      const broker = await admin.createBroker(id, { policy: { alg: alg as 'EdDSA' } })
      const r = await exchangeFor(idToken, TOKEN_TYPE.idToken, id)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      const token = String(r.body.access_token)
      expect(decodeProtectedHeader(token).alg).toBe(alg)
      if (alg === 'HS256') await jwtVerify(token, Buffer.from(String(broker.hmacSecret), 'base64url'), { issuer: stack.exchangeUrl, audience: id })
      else await jwtVerify(token, createLocalJWKSet((await getJson(str(exchange, 'jwks_uri'))) as never), { issuer: stack.exchangeUrl, audience: id })
    }
  })

  it('revocation_feed_template names a feed brokers can follow (with their feed credential)', async () => {
    const feed = str(exchange, 'revocation_feed_template').replace('{broker}', 'demo')
    const credential = readFileSync(await stack.feedCredentialFile('demo'), 'utf8').trim()
    expect(await getJson(feed, { authorization: `Bearer ${credential}` })).toMatchObject({ broker: 'demo', revision: expect.any(Number) })
  })
})
