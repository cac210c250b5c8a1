import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { pino } from 'pino'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createAccount, createIdp, type Idp } from '../src/index.js'
import { completeAuthCodeLogin, completeDeviceLogin, ScriptedBrowser, ScriptedLoginError } from '@mqtt-oidc/test-support/idp-user-agent'

const EXCHANGE_URL = 'http://127.0.0.1:4001'
const ADMIN_SECRET = 'admin-secret-for-tests-0123456789abcdef'
const COOKIE_KEYS = ['cookie-key-for-tests-0123456789abcdef']
const ID_TOKEN_TTL = 120
const SCOPE = 'openid mqtt offline_access'
const PENDING = { error: 'authorization_pending', error_description: "authorization request is still pending as the end-user hasn't yet completed the user interaction steps" }

let dir: string
let dbPath: string
let store: Store
let idp: Idp
let issuer: string
let port: number
let config: oidc.Configuration
let alice: { id: string }

function startIdp(options: { port?: number } = {}): Idp {
  return createIdp({
    store,
    exchangeUrl: EXCHANGE_URL,
    adminClient: { clientId: 'mqtt-oidc-admin', clientSecret: ADMIN_SECRET },
    cookieKeys: COOKIE_KEYS,
    logger: pino({ level: 'silent' }),
    devicePollInterval: 1,
    ttl: { idToken: ID_TOKEN_TTL },
    port: options.port ?? 0,
  })
}

async function discover(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), 'mqtt-oidc-cli', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] })
}

async function deviceAuthorization(): Promise<Record<string, unknown>> {
  const res = await fetch(`${issuer}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'mqtt-oidc-cli', scope: SCOPE }) })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

async function pollOnce(deviceCode: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: 'mqtt-oidc-cli' }),
  })
  return { status: res.status, body: await res.json() }
}

async function jwksKids(): Promise<string[]> {
  const res = await fetch(`${issuer}/jwks`)
  const { keys } = (await res.json()) as { keys: Array<{ kid: string; d?: string }> }
  expect(keys.every((key) => key.d === undefined)).toBe(true)
  return keys.map((key) => key.kid)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idp-test-'))
  dbPath = join(dir, 'idp.sqlite')
  store = createSqliteStore(dbPath)
  alice = await createAccount(store, { username: 'alice', password: 'correct horse battery', clientIds: ['alice-laptop', 'alice-phone'], clientIdMode: 'shared' })
  await createAccount(store, { username: 'bob', password: 'bob-password-1', clientIds: ['bob-1'] })
  const disabled = await createAccount(store, { username: 'mallory', password: 'mallory-password', clientIds: ['m-1'] })
  await store.accounts.update(disabled.id, { disabled: true })
  idp = startIdp()
  ;({ url: issuer, port } = await idp.listen())
  config = await discover()
})

afterAll(async () => {
  await idp?.close()
  await store?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('device flow (RFC 8628) with openid-client as the device', () => {
  it('signs in through the login and consent pages; the ID token carries clientid and username, and a refresh token is issued', async () => {
    const da = await oidc.initiateDeviceAuthorization(config, { scope: SCOPE })
    expect(da.interval).toBe(1)
    const abort = new AbortController()
    const polling = oidc.pollDeviceAuthorizationGrant(config, da, undefined, { signal: abort.signal })
    try {
      const page = await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, username: 'alice', password: 'correct horse battery' })
      expect(page.name).toBe('device-success')
      expect(page.alert).toBeUndefined()
    } catch (err) {
      abort.abort()
      await polling.catch(() => undefined)
      throw err
    }
    const tokens = await polling

    expect(tokens.refresh_token).toEqual(expect.any(String))
    expect(tokens.scope?.split(' ').sort()).toEqual(['mqtt', 'offline_access', 'openid'])
    const idToken = tokens.id_token ?? ''
    expect(decodeProtectedHeader(idToken)).toMatchObject({ alg: 'RS256', kid: expect.any(String) })
    const claims = decodeJwt(idToken)
    expect(claims).toMatchObject({ iss: issuer, aud: 'mqtt-oidc-cli', sub: alice.id, clientid: 'alice-laptop', username: 'alice' })
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(ID_TOKEN_TTL)
    expect(await jwksKids()).toContain(decodeProtectedHeader(idToken).kid)

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '')
    expect(refreshed.refresh_token).toEqual(expect.any(String))
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    expect(decodeJwt(refreshed.id_token ?? '')).toMatchObject({ sub: alice.id, clientid: 'alice-laptop', username: 'alice' })
  })

  it('accepts the code typed into the verification_uri page', async () => {
    const da = await deviceAuthorization()
    const page = await completeDeviceLogin({
      verificationUri: String(da.verification_uri), userCode: String(da.user_code), username: 'bob', password: 'bob-password-1',
    })
    expect(page.name).toBe('device-success')
    const { status, body } = await pollOnce(String(da.device_code))
    expect(status).toBe(200)
    expect(decodeJwt((body as { id_token: string }).id_token)).toMatchObject({ clientid: 'bob-1', username: 'bob' })
  })

  it('answers the device authorization request with an interval', async () => {
    const da = await deviceAuthorization()
    expect(Object.keys(da).sort()).toEqual(['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete'])
    expect(da).toMatchObject({ interval: 1, expires_in: 600, verification_uri: `${issuer}/device` })
    expect(da.verification_uri_complete).toBe(`${issuer}/device?user_code=${String(da.user_code)}`)
  })

  it('serves verification_uri_complete as an auto-submit form whose one inline script is allowed by its hash', async () => {
    const da = await deviceAuthorization()
    const res = await fetch(String(da.verification_uri_complete))
    const html = await res.text()
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '')
    expect(scripts).toHaveLength(1)
    const hash = createHash('sha256').update(scripts[0] ?? '').digest('base64')
    const directives = Object.fromEntries((res.headers.get('content-security-policy') ?? '').split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/)
      return [name, values.join(' ')]
    }))
    expect(directives).toEqual({
      'default-src': "'none'", 'style-src': expect.stringMatching(/^'sha256-/), 'script-src': `'sha256-${hash}'`,
      'form-action': "'self'", 'frame-ancestors': "'none'", 'base-uri': "'none'",
    })
  })

  it('refuses the device with access_denied when the person denies consent', async () => {
    const da = await deviceAuthorization()
    const page = await completeDeviceLogin({
      verificationUriComplete: String(da.verification_uri_complete), username: 'alice', password: 'correct horse battery', approve: false,
    })
    expect(page.name).toBe('device-denied')
    expect(await pollOnce(String(da.device_code))).toEqual({ status: 400, body: { error: 'access_denied', error_description: 'End-User aborted interaction' } })
  })

  it('makes openid-client fail with access_denied after a denial', async () => {
    const da = await oidc.initiateDeviceAuthorization(config, { scope: SCOPE })
    await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, approve: false, denyAt: 'device' })
    await expect(oidc.pollDeviceAuthorizationGrant(config, da)).rejects.toMatchObject({ error: 'access_denied' })
  })
})

describe('login page', () => {
  async function failedLogin(username: string, password: string): Promise<ScriptedLoginError> {
    const da = await deviceAuthorization()
    const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), username, password }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ScriptedLoginError)
    expect(await pollOnce(String(da.device_code))).toEqual({ status: 400, body: PENDING })
    return err as ScriptedLoginError
  }
  // The page differs per interaction only in its uid and CSRF token.
  const normalize = (html: string) => html.replace(/\/interaction\/[^/"]+\//g, '/interaction/UID/').replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="CSRF"')

  it('shows the same error for a wrong password, an unknown user and a disabled account\'s wrong password', async () => {
    const wrongPassword = await failedLogin('alice', 'not her password')
    const unknownUser = await failedLogin('nobody', 'not her password')
    const disabledWrong = await failedLogin('mallory', 'not her password')
    for (const err of [wrongPassword, unknownUser, disabledWrong]) {
      expect(err.page.name).toBe('login')
      expect(err.page.status).toBe(400)
      expect(err.page.alert).toBe('Incorrect username or password.')
    }
    expect(normalize(unknownUser.page.html)).toBe(normalize(wrongPassword.page.html).replace('value="alice"', 'value="nobody"'))
    expect(normalize(disabledWrong.page.html)).toBe(normalize(wrongPassword.page.html).replace('value="alice"', 'value="mallory"'))
  })

  it('tells a disabled account it is disabled only after its right password, and still does not sign it in', async () => {
    const disabled = await failedLogin('mallory', 'mallory-password')
    expect({ name: disabled.page.name, status: disabled.page.status, alert: disabled.page.alert })
      .toEqual({ name: 'login', status: 403, alert: 'This account is disabled. Ask an administrator to enable it.' })
  })

  it('is served with a strict CSP, labelled inputs and a CSRF token, and escapes what it echoes', async () => {
    const da = await deviceAuthorization()
    const browser = new ScriptedBrowser()
    const username = '"><script>alert(1)</script>'
    const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), username, password: 'whatever-password', browser }).catch((e: unknown) => e)
    if (!(err instanceof ScriptedLoginError)) throw new Error('the login was not refused')
    const page = err.page
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/)
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(page.html).not.toContain('<script>')
    expect(page.html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"')
    expect(page.html).toMatch(/<label for="username">Username<\/label>\s*<input id="username"/)
    expect(page.html).toMatch(/<label for="password">Password<\/label>\s*<input id="password"/)
    const login = page.forms.find((f) => f.action.endsWith('/login'))
    expect(login?.fields.find(([name]) => name === 'csrf')?.[1]).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses a login form with a forged CSRF token, and one posted from another browser', async () => {
    const da = await deviceAuthorization()
    const browser = new ScriptedBrowser()
    const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), username: 'nobody', password: 'x-password', browser })
      .catch((e: unknown) => e)
    if (!(err instanceof ScriptedLoginError)) throw new Error('the login was not refused')
    const form = err.page.forms.find((f) => f.action.endsWith('/login'))
    if (!form) throw new Error('no login form')
    const credentials = { username: 'alice', password: 'correct horse battery' }

    const forged = await browser.submit(form, { ...credentials, csrf: 'forged' })
    expect(forged).toMatchObject({ name: 'error', status: 403 })
    // Without this browser's interaction cookie, even the right token is useless.
    const elsewhere = await new ScriptedBrowser().submit(form, credentials)
    expect(elsewhere).toMatchObject({ name: 'error', status: 400 })
    expect(await pollOnce(String(da.device_code))).toEqual({ status: 400, body: PENDING })
  })
})

describe('authorization code flow with PKCE (CLI on a loopback redirect)', () => {
  const redirectUri = 'http://127.0.0.1:53682/callback'

  it('returns a code to any loopback port and exchanges it with the verifier', async () => {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    // OIDC Core §11: offline_access at the authorization endpoint needs prompt=consent.
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: SCOPE, state, prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    })
    const callback = await completeAuthCodeLogin(url, { username: 'alice', password: 'correct horse battery' })
    expect(callback.origin + callback.pathname).toBe(redirectUri)
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })
    expect(tokens.claims()).toMatchObject({ sub: alice.id, clientid: 'alice-laptop', username: 'alice' })
    expect(tokens.refresh_token).toEqual(expect.any(String))
  })

  it('lets the login form end at the client\'s loopback redirect (CSP form-action covers the redirect)', async () => {
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: SCOPE, state: 'abc',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    })
    const page = await new ScriptedBrowser().get(url)
    expect(page).toMatchObject({ name: 'login', status: 200 })
    const csp = 'headers' in page ? page.headers.get('content-security-policy') : null
    expect(csp).toContain("form-action 'self' http://127.0.0.1:53682;")
  })

  it('refuses an authorization request without PKCE', async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: SCOPE, state: 'xyz' })
    const res = await fetch(url, { redirect: 'manual' })
    expect(res.status).toBe(303)
    const location = new URL(res.headers.get('location') ?? '')
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: 'invalid_request', error_description: 'Authorization Server policy requires PKCE to be used for this request', state: 'xyz', iss: issuer,
    })
  })
})

describe('restart with the same store', () => {
  it('keeps the signing keys and the browser session', async () => {
    const kids = await jwksKids()
    expect(kids).toHaveLength(3)
    const browser = new ScriptedBrowser()
    const first = await deviceAuthorization()
    await completeDeviceLogin({ verificationUriComplete: String(first.verification_uri_complete), username: 'alice', password: 'correct horse battery', browser })

    await idp.close()
    await store.close()
    store = createSqliteStore(dbPath)
    idp = startIdp({ port })
    expect((await idp.listen()).url).toBe(issuer)

    expect(await jwksKids()).toEqual(kids)
    // Signed in before the restart: no login page now (the scripted browser answers consent).
    const second = await deviceAuthorization()
    const page = await completeDeviceLogin({ verificationUriComplete: String(second.verification_uri_complete), browser })
    expect(page.name).toBe('device-success')
    const { status, body } = await pollOnce(String(second.device_code))
    expect(status).toBe(200)
    expect(decodeProtectedHeader((body as { id_token: string }).id_token).kid).toBe(kids[0])
  })
})
