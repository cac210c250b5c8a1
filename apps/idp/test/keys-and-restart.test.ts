import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as oidc from 'openid-client'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { pino } from 'pino'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createAccount, createIdp, rotateSigningKeys } from '../src/index.js'
import { until } from '@mqtt-oidc/test-support/until'
import { completeDeviceLogin, ScriptedBrowser, ScriptedLoginError, type BrowserPage } from '@mqtt-oidc/test-support/idp-user-agent'
import { ADMIN_SECRET, DEVICE_GRANT, deviceAuthorization, EXCHANGE_URL, SCOPE, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

const BOB = { username: 'bob', password: 'bob-password-1' }
const TTL = { idToken: 60, adminAccessToken: 60 }
// Seconds between the instances' looks at the keys (real timers), and how long a rotation publishes
// keys before they sign (passed by moving the clock, so a slow machine cannot blur the order).
const RELOAD = 0.2
const LEAD = 3600
// What the IdP keeps a retired key for: the longest signed-token lifetime plus 300 s of skew.
const RETENTION = 60 + 300

let t: TestIdp

beforeAll(async () => {
  t = await startTestIdp({ ttl: TTL, keyReloadSeconds: RELOAD }, async (store) => {
    await createAccount(store, BOB)
  })
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
  it('publishes new keys at once on every instance, signs with them from their activation without a restart, keeps old ones until their tokens expired', async () => {
    // A second instance on the same store and issuer, as behind a load balancer.
    const store2 = createSqliteStore(t.dbPath)
    const idp2 = createIdp({
      store: store2,
      issuer: t.issuer,
      exchangeUrl: EXCHANGE_URL,
      adminClient: { clientId: 'mqtt-oidc-admin', clientSecret: ADMIN_SECRET },
      cookieKeys: ['cookie-key-for-tests-0123456789abcdef'],
      logger: pino({ level: 'silent' }),
      ttl: TTL,
      keyReloadSeconds: RELOAD,
    })
    const { port: port2 } = await idp2.listen()
    const jwks2 = async () => (await (await fetch(`http://127.0.0.1:${port2}/jwks`)).json()) as { keys: Array<Record<string, unknown>> }
    try {
      const before = await jwks()
      expect(before.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA'])
      expect((await jwks2()).keys).toEqual(before.keys)
      const oldToken = await deviceSignIn()
      const oldKid = decodeProtectedHeader(oldToken).kid

      const rotatedAt = Math.floor(Date.now() / 1000)
      const { added, retired, activatesAt } = await rotateSigningKeys(t.store, { leadSeconds: LEAD })
      expect(retired.sort()).toEqual(before.keys.map((k) => String(k.kid)).sort())
      expect(activatesAt - LEAD - rotatedAt).toBeGreaterThanOrEqual(0)
      expect(activatesAt - LEAD - rotatedAt).toBeLessThanOrEqual(1)

      // Within a reload both instances publish the new keys, verify-only, and still sign with the old ones.
      await until(async () => (await jwks2()).keys.length === 6 && (await jwks()).keys.length === 6)
      const ahead = await jwks()
      expect(ahead.keys.slice(0, 3).map((k) => k.kid)).toEqual(before.keys.map((k) => k.kid))
      expect(new Set(ahead.keys.slice(3).map((k) => k.kid))).toEqual(new Set(added))
      expect(ahead.keys.slice(3).map((k) => k.key_ops)).toEqual([['verify'], ['verify'], ['verify']])
      expect(decodeProtectedHeader(await deviceSignIn()).kid).toBe(oldKid)

      // From activation (the clock moved past it; the reload timers are real) the new keys sign,
      // and the old ones stay published (verify-only) on both instances.
      vi.useFakeTimers({ toFake: ['Date'], now: (activatesAt + 1) * 1000 })
      await until(async () => (await jwks()).keys[0]?.kid === added[0] && (await jwks2()).keys[0]?.kid === added[0])
      for (const during of [await jwks(), await jwks2()]) {
        expect(during.keys.slice(0, 3).map((k) => k.kid)).toEqual(added)
        expect(during.keys.slice(0, 3).map((k) => k.key_ops)).toEqual([undefined, undefined, undefined])
        expect(new Set(during.keys.slice(3).map((k) => k.kid))).toEqual(new Set(retired))
        expect(during.keys.slice(3).map((k) => k.key_ops)).toEqual([['verify'], ['verify'], ['verify']])
        expect(during.keys.every((k) => k.d === undefined)).toBe(true)
        await expect(
          jwtVerify(oldToken, createLocalJWKSet(during), { issuer: t.issuer, currentDate: new Date((activatesAt - LEAD) * 1000) }),
        ).resolves.toBeDefined()
      }
      const newToken = await deviceSignIn()
      expect(decodeProtectedHeader(newToken).kid).toBe(added[0])
      await expect(jwtVerify(newToken, createLocalJWKSet(await jwks2()), { issuer: t.issuer })).resolves.toBeDefined()

      // Once every token the old keys signed has expired, they leave every JWKS (no restart either).
      vi.setSystemTime((activatesAt + RETENTION + 5) * 1000)
      await until(async () => (await jwks()).keys.length === 3 && (await jwks2()).keys.length === 3)
      expect((await jwks()).keys.map((k) => k.kid)).toEqual(added)
      vi.useRealTimers()
    } finally {
      vi.useRealTimers()
      await idp2.close()
      await store2.close()
    }
  })

  it('a second rotation within the lead replaces the pending keys, which never sign; a restart keeps the same keys', async () => {
    // The keys signing now, from the store (the running instance may still serve the previous test's moved clock).
    const now = Math.floor(Date.now() / 1000)
    const before = (await t.store.keys.list('idp')).filter((k) => k.createdAt <= now && (k.retiredAt === null || k.retiredAt > now)).map((k) => k.kid)
    const first = await rotateSigningKeys(t.store, { leadSeconds: 3600 })
    const second = await rotateSigningKeys(t.store, { leadSeconds: 0 })
    expect(second.retired.sort()).toEqual([...before].sort())
    await t.restart()
    const keys = (await jwks()).keys
    expect(keys.slice(0, 3).map((k) => k.kid)).toEqual(second.added)
    expect(keys.filter((k) => first.added.includes(String(k.kid))).map((k) => k.key_ops)).toEqual([['verify'], ['verify'], ['verify']])
    expect(decodeProtectedHeader(await deviceSignIn()).kid).toBe(second.added[0])
    await expect(rotateSigningKeys(t.store, { leadSeconds: -1 })).rejects.toThrow(/leadSeconds/)
  })
})

describe('restart in the middle of a device flow', () => {
  it("completes after the restart: the device code, the browser's interaction and the user code survive", async () => {
    await t.restart()
    const da = await deviceAuthorization(t.issuer)
    expect(await tokenRequest(t.issuer, { grant_type: DEVICE_GRANT, device_code: String(da.device_code) })).toMatchObject({
      status: 400,
      body: { error: 'authorization_pending' },
    })

    // The person confirmed the code and is on the login page when the IdP restarts.
    const browser = new ScriptedBrowser()
    const stopped = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), browser }).catch((e: unknown) => e)
    if (!(stopped instanceof ScriptedLoginError) || stopped.page.name !== 'login') throw new Error('expected the login page')
    const loginForm = stopped.page.forms.find((f) => f.action.endsWith('/login'))
    if (!loginForm) throw new Error('no login form')
    await t.restart()

    const consent = (await browser.submit(loginForm, BOB)) as BrowserPage
    expect(consent.name).toBe('consent')
    const allow = consent.forms.find((f) => f.action.endsWith('/consent'))
    if (!allow) throw new Error('no consent form')
    expect(await browser.submit(allow)).toMatchObject({ name: 'device-success' })

    const { status, body } = await tokenRequest(t.issuer, { grant_type: DEVICE_GRANT, device_code: String(da.device_code) })
    expect(status).toBe(200)
    expect(body).toMatchObject({ id_token: expect.any(String), refresh_token: expect.any(String) })
  })
})
