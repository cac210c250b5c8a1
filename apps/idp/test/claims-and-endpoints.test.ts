import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount } from '../src/index.js'
import { completeAuthCodeLogin, completeDeviceLogin, ScriptedBrowser, ScriptedLoginError, type BrowserPage } from '@mqtt-oidc/test-support/idp-user-agent'
import { DEVICE_GRANT, deviceAuthorization, SCOPE, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

const ALICE = { username: 'alice', password: 'correct horse battery' }
const NOT_HELD = "the requested clientid is not one of this account's client ids"
const REDIRECT_URI = 'http://127.0.0.1:50001/callback'

let t: TestIdp
let aliceId: string

beforeAll(async () => {
  t = await startTestIdp({}, async (store) => {
    aliceId = (await createAccount(store, { ...ALICE, clientIds: ['gw-17', 'gw-18'], groups: ['ops', 'site-a'] })).id
  })
})
afterAll(async () => {
  await t?.close()
})

async function authorize(params: Record<string, string>, browser = new ScriptedBrowser()) {
  const verifier = oidc.randomPKCECodeVerifier()
  const url = oidc.buildAuthorizationUrl(t.config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    prompt: 'consent',
    state: 'st',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...params,
  })
  const callback = await completeAuthCodeLogin(url, { ...ALICE, browser })
  return { callback, verifier }
}

async function signIn(params: Record<string, string> = {}) {
  const { callback, verifier } = await authorize(params)
  return oidc.authorizationCodeGrant(t.config, callback, { pkceCodeVerifier: verifier, expectedState: 'st' })
}

describe('clientid authorization parameter', () => {
  it('puts the requested client id into the ID token, userinfo and every refreshed ID token (auth code)', async () => {
    const tokens = await signIn({ clientid: 'gw-18' })
    expect(tokens.claims()).toMatchObject({ sub: aliceId, clientid: 'gw-18', username: 'alice' })
    expect(await oidc.fetchUserInfo(t.config, tokens.access_token, aliceId)).toMatchObject({ clientid: 'gw-18' })
    const refreshed = await oidc.refreshTokenGrant(t.config, tokens.refresh_token ?? '')
    expect(refreshed.claims()).toMatchObject({ clientid: 'gw-18' })
  })

  it("uses the account's first client id when none is requested", async () => {
    expect((await signIn()).claims()).toMatchObject({ clientid: 'gw-17' })
  })

  it('puts the requested client id into the ID token (device flow)', async () => {
    const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE, clientid: 'gw-18' })
    const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
    let title: string | undefined
    await completeDeviceLogin({
      verificationUriComplete: da.verification_uri_complete,
      ...ALICE,
      onPage: (p) => {
        if (p.name === 'device-confirm') title = /<h1>([^<]*)<\/h1>/.exec(p.html)?.[1]
      },
    })
    expect(title).toBe('Sign in the device &#39;gw-18&#39;?')
    expect((await polling).claims()).toMatchObject({ clientid: 'gw-18', username: 'alice' })
  })

  it('refuses a client id the account does not hold, at the redirect URI (auth code)', async () => {
    const { callback } = await authorize({ clientid: 'gw-99' })
    expect(Object.fromEntries(callback.searchParams)).toEqual({ error: 'invalid_request', error_description: NOT_HELD, state: 'st', iss: t.issuer })
  })

  it('refuses a client id the account does not hold, to the polling device', async () => {
    const da = await deviceAuthorization(t.issuer, SCOPE, { clientid: 'gw-99' })
    let last: BrowserPage | undefined
    const err = await completeDeviceLogin({
      verificationUriComplete: String(da.verification_uri_complete),
      ...ALICE,
      onPage: (p) => {
        last = p
      },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ScriptedLoginError)
    expect(last).toMatchObject({
      name: 'device-code',
      alert: 'Your account cannot sign in this device: the device asked for an MQTT client id your account does not have.',
    })
    expect(await tokenRequest(t.issuer, { grant_type: DEVICE_GRANT, device_code: String(da.device_code) })).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: NOT_HELD },
    })
  })

  it('refuses a malformed client id at the device authorization endpoint', async () => {
    const res = await fetch(`${t.issuer}/device/auth`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'mqtt-oidc-cli', scope: SCOPE, clientid: 'a/#' }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'clientid: client id "a/#" may not contain "/", "+" or "#"' })
    const dollar = await fetch(`${t.issuer}/device/auth`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'mqtt-oidc-cli', scope: SCOPE, clientid: '$SYS' }),
    })
    expect(await dollar.json()).toEqual({ error: 'invalid_request', error_description: 'clientid: client id "$SYS" may not start with "$"' })
  })
})

describe('groups claim', () => {
  it('is in the ID token with scope groups, and absent without it', async () => {
    expect((await signIn({ scope: `${SCOPE} groups` })).claims()).toMatchObject({ groups: ['ops', 'site-a'] })
    expect((await signIn()).claims()?.groups).toBeUndefined()
  })
})

describe('GET /.well-known/openid-configuration', () => {
  it('lists exactly what is supported', async () => {
    const metadata = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json()
    const at = (path: string) => `${t.issuer}${path}`
    expect(metadata).toEqual({
      issuer: t.issuer,
      authorization_endpoint: at('/auth'),
      device_authorization_endpoint: at('/device/auth'),
      token_endpoint: at('/token'),
      userinfo_endpoint: at('/me'),
      jwks_uri: at('/jwks'),
      end_session_endpoint: at('/session/end'),
      introspection_endpoint: at('/token/introspection'),
      revocation_endpoint: at('/token/revocation'),
      authorization_response_iss_parameter_supported: true,
      claims_parameter_supported: false,
      claims_supported: ['sub', 'clientid', 'username', 'groups', 'auth_time', 'iss'],
      claim_types_supported: ['normal'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256', 'EdDSA'],
      request_uri_parameter_supported: false,
      response_modes_supported: ['form_post', 'fragment', 'query'],
      response_types_supported: ['code'],
      scopes_supported: ['openid', 'offline_access', 'mqtt', 'groups'],
      subject_types_supported: ['public'],
      // Introspection and revocation authenticate clients exactly as the token endpoint does
      // (RFC 8414 §2: omitted, they would read as client_secret_basic only).
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    })
  })
})

describe('POST /token/introspection and /token/revocation', () => {
  it("introspects the client's own access token, and revoking it makes it inactive", async () => {
    const tokens = await signIn()
    expect(await oidc.tokenIntrospection(t.config, tokens.access_token)).toMatchObject({
      active: true,
      client_id: 'mqtt-oidc-cli',
      sub: aliceId,
      token_type: 'Bearer',
      iss: t.issuer,
    })
    await oidc.tokenRevocation(t.config, tokens.access_token)
    expect(await oidc.tokenIntrospection(t.config, tokens.access_token)).toEqual({ active: false })
  })

  it('revokes a refresh token: it no longer refreshes', async () => {
    const tokens = await signIn()
    await oidc.tokenRevocation(t.config, tokens.refresh_token ?? '', { token_type_hint: 'refresh_token' })
    await expect(oidc.refreshTokenGrant(t.config, tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' })
  })
})

describe('GET/POST /session/end (RP-initiated logout)', () => {
  it('asks, signs the browser out, and the next sign-in asks for the password again', async () => {
    const browser = new ScriptedBrowser()
    const { callback, verifier } = await authorize({}, browser)
    const tokens = await oidc.authorizationCodeGrant(t.config, callback, { pkceCodeVerifier: verifier, expectedState: 'st' })
    const ask = await browser.get(oidc.buildEndSessionUrl(t.config, { id_token_hint: tokens.id_token ?? '' }))
    if ('redirectedTo' in ask) throw new Error('unexpected redirect')
    expect(ask.name).toBe('logout')
    const form = ask.forms[0]
    if (!form) throw new Error('no logout form')
    const done = await browser.submit(form, { logout: 'yes' })
    expect(done).toMatchObject({ name: 'logged-out', status: 200 })

    let sawLogin = false
    const da = await deviceAuthorization(t.issuer)
    await completeDeviceLogin({
      verificationUriComplete: String(da.verification_uri_complete),
      ...ALICE,
      browser,
      onPage: (p) => {
        sawLogin ||= p.name === 'login'
      },
    })
    expect(sawLogin).toBe(true)
  })
})

describe('client ids taken from an account', () => {
  it("stop appearing in refreshed ID tokens: no clientid rather than another device's", async () => {
    const tokens = await signIn({ clientid: 'gw-18' })
    const account = await t.store.accounts.findById(aliceId)
    await t.store.accounts.update(aliceId, { clientIds: ['gw-17'] })
    try {
      const refreshed = await oidc.refreshTokenGrant(t.config, tokens.refresh_token ?? '')
      expect(refreshed.claims()).toMatchObject({ sub: aliceId, username: 'alice' })
      expect(refreshed.claims()?.clientid).toBeUndefined()
    } finally {
      await t.store.accounts.update(aliceId, { clientIds: account?.clientIds ?? [] })
    }
  })
})
