import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as oidc from 'openid-client'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { createAccount, rotateSigningKeys } from '../src/index.js'
import { completeDeviceLogin, ScriptedBrowser, ScriptedLoginError, type BrowserPage } from '../../../test/support/idp-user-agent.js'
import { DEVICE_GRANT, deviceAuthorization, SCOPE, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

const BOB = { username: 'bob', password: 'bob-password-1' }
const TTL = { idToken: 60, adminAccessToken: 60 }
// What the IdP keeps a retired key for: the longest signed-token lifetime plus 300 s of skew.
const RETENTION = 60 + 300

let t: TestIdp

beforeAll(async () => {
  t = await startTestIdp({ ttl: TTL }, async (store) => { await createAccount(store, BOB) })
})
afterAll(async () => {
  vi.useRealTimers()
  await t?.close()
})

async function jwks(): Promise<JSONWebKeySet & { keys: Array<Record<string, unknown>> }> {
  return (await (await fetch(`${t.issuer}/jwks`)).json()) as JSONWebKeySet & { keys: Array<Record<string, unknown>> }
}

async function deviceSignIn(): Promise<string> {
  const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE })
  const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
  await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...BOB })
  return (await polling).id_token ?? ''
}

describe('signing key rotation', () => {
  it('signs with the new keys after a restart and keeps the old ones in the JWKS until their tokens expired', async () => {
    const before = await jwks()
    expect(before.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA'])
    const oldToken = await deviceSignIn()
    const oldKid = decodeProtectedHeader(oldToken).kid

    const { added, retired } = await rotateSigningKeys(t.store)
    expect(retired.sort()).toEqual(before.keys.map((k) => String(k.kid)).sort())
    await t.restart()

    const during = await jwks()
    expect(during.keys.slice(0, 3).map((k) => k.kid)).toEqual(added)
    expect(new Set(during.keys.slice(3).map((k) => k.kid))).toEqual(new Set(retired))
    expect(during.keys.slice(3).map((k) => k.key_ops)).toEqual([['verify'], ['verify'], ['verify']])
    expect(during.keys.every((k) => k.d === undefined)).toBe(true)
    // A token signed before the rotation still verifies; new tokens use the new RS256 key.
    await expect(jwtVerify(oldToken, createLocalJWKSet(during), { issuer: t.issuer })).resolves.toBeDefined()
    const newToken = await deviceSignIn()
    expect(decodeProtectedHeader(newToken).kid).toBe(added[0])
    expect(decodeProtectedHeader(newToken).kid).not.toBe(oldKid)

    // Once every token the old keys signed has expired, they leave the JWKS.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (RETENTION + 5) * 1000 })
    await t.restart()
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(added)
    vi.useRealTimers()
  })
})

describe('restart in the middle of a device flow', () => {
  it('completes after the restart: the device code, the browser\'s interaction and the user code survive', async () => {
    await t.restart()
    const da = await deviceAuthorization(t.issuer)
    expect(await tokenRequest(t.issuer, { grant_type: DEVICE_GRANT, device_code: String(da.device_code) })).toMatchObject({ status: 400, body: { error: 'authorization_pending' } })

    // The person confirmed the code and is on the login page when the IdP restarts.
    const browser = new ScriptedBrowser()
    const stopped = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), browser }).catch((e: unknown) => e)
    if (!(stopped instanceof ScriptedLoginError) || stopped.page.name !== 'login') throw new Error('expected the login page')
    const loginForm = stopped.page.forms.find((f) => f.action.endsWith('/login'))
    if (!loginForm) throw new Error('no login form')
    await t.restart()

    const consent = await browser.submit(loginForm, BOB) as BrowserPage
    expect(consent.name).toBe('consent')
    const allow = consent.forms.find((f) => f.action.endsWith('/consent'))
    if (!allow) throw new Error('no consent form')
    expect(await browser.submit(allow)).toMatchObject({ name: 'device-success' })

    const { status, body } = await tokenRequest(t.issuer, { grant_type: DEVICE_GRANT, device_code: String(da.device_code) })
    expect(status).toBe(200)
    expect(body).toMatchObject({ id_token: expect.any(String), refresh_token: expect.any(String) })
  })
})
