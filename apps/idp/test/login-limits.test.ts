import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount, setAccountDisabled } from '../src/index.js'
import { completeDeviceLogin, ScriptedBrowser, ScriptedLoginError, type BrowserPage } from '../../../test/support/idp-user-agent.js'
import { deviceAuthorization, SCOPE, startTestIdp, tokenRequest, type TestIdp } from './support/test-idp.js'

const ALICE = { username: 'alice', password: 'correct horse battery' }
const BOB = { username: 'bob', password: 'bob-password-1' }
const CAROL = { username: 'carol', password: 'carol-password' }
const TOO_MANY = 'Too many failed sign-in attempts. Wait 15 minutes and try again.'

let t: TestIdp

beforeAll(async () => {
  t = await startTestIdp({ loginRateLimit: { perAccount: { limit: 3, windowSeconds: 900 }, perIp: { limit: 6, windowSeconds: 900 } } }, async (store) => {
    for (const account of [ALICE, BOB, CAROL]) await createAccount(store, account)
  })
})
afterAll(async () => { await t?.close() })

/** A browser on the login page of a fresh device authorization, and a way to submit that form. */
async function loginPage(): Promise<{ submit(credentials: { username: string; password: string }): Promise<BrowserPage> }> {
  const da = await deviceAuthorization(t.issuer)
  const browser = new ScriptedBrowser()
  const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), browser }).catch((e: unknown) => e)
  if (!(err instanceof ScriptedLoginError) || err.page.name !== 'login') throw new Error('no login page')
  const form = err.page.forms.find((f) => f.action.endsWith('/login'))
  if (!form) throw new Error('no login form')
  return {
    async submit(credentials) {
      const page = await browser.submit(form, credentials)
      if ('redirectedTo' in page) throw new Error('unexpected redirect')
      return page
    },
  }
}

describe('POST /interaction/:uid/login rate limits', () => {
  it('refuses an account after its budget of failures, even with the right password, and other accounts still sign in', async () => {
    const page = await loginPage()
    for (let i = 0; i < 3; i++) expect(await page.submit({ ...ALICE, password: `wrong-${i}-password` })).toMatchObject({ status: 400, alert: 'Incorrect username or password.' })
    const blocked = await page.submit(ALICE)
    expect(blocked).toMatchObject({ name: 'login', status: 429, alert: TOO_MANY })
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/)
    const other = await loginPage()
    expect((await other.submit(BOB)).name).toBe('consent')
  })

  it('limits an unknown username the same way: a 429 says nothing about whether an account exists', async () => {
    const page = await loginPage()
    for (let i = 0; i < 3; i++) expect(await page.submit({ username: 'nobody', password: 'whatever-password' })).toMatchObject({ status: 400 })
    expect(await page.submit({ username: 'nobody', password: 'whatever-password' })).toMatchObject({ status: 429, alert: TOO_MANY })
  })

  it('refuses every login from a client IP after its budget of failures', async () => {
    // 6 failures so far from 127.0.0.1 (3 alice, 3 nobody); the IP budget is 6.
    const page = await loginPage()
    expect(await page.submit(CAROL)).toMatchObject({ status: 429, alert: TOO_MANY })
  })
})

describe('disabled accounts', () => {
  it('stop refreshing: a refresh token of a disabled account is refused with invalid_grant', async () => {
    const fresh = await startTestIdp({}, async (store) => { await createAccount(store, BOB) })
    try {
      const da = await oidc.initiateDeviceAuthorization(fresh.config, { scope: SCOPE })
      const polling = oidc.pollDeviceAuthorizationGrant(fresh.config, da)
      await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...BOB })
      const tokens = await polling
      await setAccountDisabled(fresh.store, 'bob', true)
      expect(await tokenRequest(fresh.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }))
        .toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } })
      await setAccountDisabled(fresh.store, 'bob', false)
    } finally {
      await fresh.close()
    }
  })
})
