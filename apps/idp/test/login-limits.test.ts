import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount, setAccountDisabled } from '../src/index.js'
import { completeDeviceLogin, CookieJar, ScriptedBrowser, ScriptedLoginError, type BrowserPage } from '@mqtt-oidc/test-support/idp-user-agent'
import { deviceAuthorization, SCOPE, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

const ALICE = { username: 'alice', password: 'correct horse battery' }
const BOB = { username: 'bob', password: 'bob-password-1' }
const CAROL = { username: 'carol', password: 'carol-password' }
const DAVE = { username: 'dave', password: 'dave-password' }
const TOO_MANY = 'Too many failed sign-in attempts. Wait 15 minutes and try again.'

// The IdP sits behind one trusted proxy here, so each browser can play a
// client at its own address (X-Forwarded-For); behind-a-proxy.test.ts shows
// a client cannot forge it.
let t: TestIdp

beforeAll(async () => {
  t = await startTestIdp(
    {
      trustedProxies: 1,
      loginRateLimit: {
        perAccountIp: { limit: 3, windowSeconds: 900 },
        perIp: { limit: 6, windowSeconds: 900 },
        perAccount: { limit: 5, windowSeconds: 86400, backoff: { baseSeconds: 120, maxSeconds: 3600 } },
      },
    },
    async (store) => {
      for (const account of [ALICE, BOB, CAROL, DAVE]) await createAccount(store, account)
    },
  )
})
afterAll(async () => {
  await t?.close()
})

/** A browser at `address` on the login page of a fresh device authorization, and a way to submit that form. */
async function loginPage(
  address: string,
  jar = new CookieJar(),
): Promise<{ browser: ScriptedBrowser; submit(credentials: { username: string; password: string }): Promise<BrowserPage> }> {
  const da = await deviceAuthorization(t.issuer)
  const browser = new ScriptedBrowser(jar, { 'x-forwarded-for': address })
  const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), browser }).catch((e: unknown) => e)
  if (!(err instanceof ScriptedLoginError) || err.page.name !== 'login') throw new Error('no login page')
  const form = err.page.forms.find((f) => f.action.endsWith('/login'))
  if (!form) throw new Error('no login form')
  return {
    browser,
    async submit(credentials) {
      const page = await browser.submit(form, credentials)
      if ('redirectedTo' in page) throw new Error('unexpected redirect')
      return page
    },
  }
}

/** A new cookie jar holding only `jar`'s cookies for the login form (no IdP session): the same browser after its session ended. */
function knownBrowserCookies(jar: CookieJar): CookieJar {
  const fresh = new CookieJar()
  const url = new URL(`${t.issuer}/interaction/x/login`)
  const known = (jar.header(url) ?? '').split('; ').filter((c) => c.startsWith('mqtt_oidc_known='))
  fresh.store(
    url,
    known.map((c) => `${c}; Path=/interaction`),
  )
  return fresh
}

describe('POST /interaction/:uid/login rate limits', () => {
  it('refuses an account at the address that spent its budget, even with the right password, and lets the same account in from another address', async () => {
    const attacker = await loginPage('203.0.113.1')
    for (let i = 0; i < 3; i++)
      expect(await attacker.submit({ ...ALICE, password: `wrong-${i}-password` })).toMatchObject({ status: 400, alert: 'Incorrect username or password.' })
    const blocked = await attacker.submit(ALICE)
    expect(blocked).toMatchObject({ name: 'login', status: 429, alert: TOO_MANY })
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/)
    // The real user, elsewhere: not stopped by the attacker's failures.
    expect((await (await loginPage('198.51.100.7')).submit(ALICE)).name).toBe('consent')
    // And another account from the attacker's address is not refused either (its own budget is untouched).
    expect((await (await loginPage('203.0.113.1')).submit(BOB)).name).toBe('consent')
  })

  it('limits an unknown username the same way: a 429 says nothing about whether an account exists', async () => {
    const page = await loginPage('203.0.113.2')
    for (let i = 0; i < 3; i++) expect(await page.submit({ username: 'nobody', password: 'whatever-password' })).toMatchObject({ status: 400 })
    expect(await page.submit({ username: 'nobody', password: 'whatever-password' })).toMatchObject({ status: 429, alert: TOO_MANY })
  })

  it('refuses every login from an address after its budget of failures over all usernames (password spraying)', async () => {
    const page = await loginPage('203.0.113.3')
    for (const username of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'])
      expect(await page.submit({ username, password: 'spray-password' })).toMatchObject({ status: 400 })
    expect(await page.submit(CAROL)).toMatchObject({ status: 429, alert: TOO_MANY })
  })

  it("slows down unknown clients once failures from many addresses pass the account's budget, never locking out the browser or address that signed in before", async () => {
    // The real user signs in once from home: that browser and that address are known for dave from now on.
    const home = await loginPage('198.51.100.20')
    expect((await home.submit(DAVE)).name).toBe('consent')

    // Three addresses, none over its own budget of 3: 5 failures, the account's budget for unknown clients.
    for (const [address, guesses] of [
      ['192.0.2.1', 2],
      ['192.0.2.2', 2],
      ['192.0.2.3', 1],
    ] as const) {
      const page = await loginPage(address)
      for (let i = 0; i < guesses; i++) expect(await page.submit({ ...DAVE, password: `guess-${address}-${i}` })).toMatchObject({ status: 400 })
    }

    // An unknown client now waits: a delay (2 minutes after the last failure, doubling with each further one up to
    // an hour: failure-limiter.test.ts), not a lock, and a guess sent while it should wait is not even looked at.
    const stranger = await loginPage('192.0.2.99')
    const slowed = await stranger.submit({ ...DAVE, password: 'another-guess' })
    expect(slowed).toMatchObject({ status: 429, alert: 'Too many failed sign-in attempts. Wait 2 minutes and try again.' })
    expect(Number(slowed.headers.get('retry-after'))).toBeGreaterThan(60)
    expect(Number(slowed.headers.get('retry-after'))).toBeLessThanOrEqual(120)
    expect(await stranger.submit(DAVE)).toMatchObject({ status: 429 })

    // The known browser, even from a new address (a phone on another network) ...
    expect((await (await loginPage('100.64.0.9', knownBrowserCookies(home.browser.jar))).submit(DAVE)).name).toBe('consent')
    // ... and the known address, even in a browser that has never been here.
    expect((await (await loginPage('198.51.100.20')).submit(DAVE)).name).toBe('consent')
  })
})

describe('disabled accounts', () => {
  it('stop refreshing: a refresh token of a disabled account is refused with invalid_grant', async () => {
    const fresh = await startTestIdp({}, async (store) => {
      await createAccount(store, BOB)
    })
    try {
      const da = await oidc.initiateDeviceAuthorization(fresh.config, { scope: SCOPE })
      const polling = oidc.pollDeviceAuthorizationGrant(fresh.config, da)
      await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...BOB })
      const tokens = await polling
      await setAccountDisabled(fresh.store, 'bob', true)
      expect(await tokenRequest(fresh.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' })).toEqual({
        status: 400,
        body: { error: 'invalid_grant', error_description: 'grant request is invalid' },
      })
      await setAccountDisabled(fresh.store, 'bob', false)
    } finally {
      await fresh.close()
    }
  })
})
