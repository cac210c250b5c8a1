import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount } from '../src/index.js'
import { completeDeviceLogin, CookieJar, ScriptedBrowser, ScriptedLoginError, type BrowserPage } from '@mqtt-oidc/test-support/idp-user-agent'
import { deviceAuthorization, startTestIdp, type TestIdp } from './support/test-idp.js'

// The IdP behind one reverse proxy (trustedProxies: 1): rate limits key on
// the address the proxy saw, which the proxy appends to X-Forwarded-For and a
// client cannot forge, and X-Forwarded-Proto: https makes cookies Secure.

const ALICE = { username: 'alice', password: 'correct horse battery' }
const TOO_MANY = 'Too many failed sign-in attempts. Wait 15 minutes and try again.'

let behind: TestIdp
let direct: TestIdp

beforeAll(async () => {
  const limits = { loginRateLimit: { perAccount: { limit: 100, windowSeconds: 900 }, perIp: { limit: 2, windowSeconds: 900 } } }
  const seed = async (store: Parameters<NonNullable<Parameters<typeof startTestIdp>[1]>>[0]) => {
    await createAccount(store, ALICE)
  }
  ;[behind, direct] = await Promise.all([startTestIdp({ ...limits, trustedProxies: 1 }, seed), startTestIdp(limits, seed)])
})
afterAll(async () => {
  await behind?.close()
  await direct?.close()
})

/** A browser (sending `xff` as the proxy's X-Forwarded-For) on the login page of a fresh device authorization. */
async function loginPage(t: TestIdp, xff: string): Promise<(credentials: typeof ALICE) => Promise<BrowserPage>> {
  const da = await deviceAuthorization(t.issuer)
  const browser = new ScriptedBrowser(new CookieJar(), { 'x-forwarded-for': xff })
  const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), browser }).catch((e: unknown) => e)
  if (!(err instanceof ScriptedLoginError) || err.page.name !== 'login') throw new Error('no login page')
  const form = err.page.forms.find((f) => f.action.endsWith('/login'))!
  return async (credentials) => browser.submit(form, credentials) as Promise<BrowserPage>
}

describe('an IdP behind a reverse proxy', () => {
  it('limits failed logins per client address as the proxy saw it, which a forged X-Forwarded-For does not change', async () => {
    const fromA = await loginPage(behind, '203.0.113.1')
    for (let i = 0; i < 2; i++) expect(await fromA({ ...ALICE, password: `wrong-${i}-password` })).toMatchObject({ status: 400 })
    expect(await fromA(ALICE)).toMatchObject({ status: 429, alert: TOO_MANY })

    // The same client forging an address in front of the one the proxy appended: still itself.
    const forged = await loginPage(behind, '198.51.100.9, 203.0.113.1')
    expect(await forged(ALICE)).toMatchObject({ status: 429, alert: TOO_MANY })

    // Another client behind the same proxy (same socket peer, 127.0.0.1) is not affected.
    const fromB = await loginPage(behind, '203.0.113.2')
    expect((await fromB(ALICE)).name).toBe('consent')
  })

  it('ignores X-Forwarded-For when no proxy is trusted: every address shares the socket peer', async () => {
    const fromA = await loginPage(direct, '203.0.113.1')
    for (let i = 0; i < 2; i++) expect(await fromA({ ...ALICE, password: `wrong-${i}-password` })).toMatchObject({ status: 400 })
    const fromB = await loginPage(direct, '203.0.113.2')
    expect(await fromB(ALICE)).toMatchObject({ status: 429, alert: TOO_MANY })
  })

  it('limits wrong device codes per client address as the proxy saw it', async () => {
    /** A browser behind the proxy at `xff` that types wrong codes until it is told to wait; how many it got to type. */
    const wrongCodesUntilRefused = async (xff: string, most: number): Promise<number> => {
      const browser = new ScriptedBrowser(new CookieJar(), { 'x-forwarded-for': xff })
      let page = (await browser.get(`${behind.issuer}/device`)) as BrowserPage
      for (let typed = 0; typed < most; typed++) {
        const form = page.forms.find((f) => f.fields.some(([name]) => name === 'user_code'))
        if (!form) return typed
        page = (await browser.submit(form, { user_code: 'BCDF-GHJK-LMNP' })) as BrowserPage
        if (page.status === 429) return typed
      }
      return most
    }
    expect(await wrongCodesUntilRefused('203.0.113.50', 25)).toBe(20)
    expect(await wrongCodesUntilRefused('203.0.113.51', 5)).toBe(5)
  })

  it('sets Secure cookies when the proxy says the request came over https, and only then', async () => {
    const interactionCookie = async (t: TestIdp, headers: Record<string, string>): Promise<string> => {
      const url = oidc.buildAuthorizationUrl(t.config, {
        redirect_uri: 'http://127.0.0.1:49152/callback',
        scope: 'openid',
        state: 's',
        nonce: 'n',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      })
      const res = await fetch(url, { redirect: 'manual', headers })
      expect(res.status).toBe(303)
      return res.headers.getSetCookie().find((c) => c.startsWith('_interaction=')) ?? ''
    }
    expect(await interactionCookie(behind, { 'x-forwarded-proto': 'https' })).toMatch(/; secure(;|$)/i)
    expect(await interactionCookie(behind, {})).not.toMatch(/; secure(;|$)/i)
    expect(await interactionCookie(direct, { 'x-forwarded-proto': 'https' })).not.toMatch(/; secure(;|$)/i)
  })
})
