import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount } from '../src/index.js'
import { completeDeviceLogin, parsePage, ScriptedBrowser, ScriptedLoginError, type BrowserPage } from '@mqtt-oidc/test-support/idp-user-agent'
import { deviceAuthorization, EXCHANGE_URL, SCOPE, startTestIdp, type TestIdp } from './support/test-idp.js'

// What a person reads on the IdP's pages: where the cursor starts, what a
// refused code or account is told, what the IdP's root says, and which MQTT
// client id a device was given. Exact markup, as served.

const ALICE = { username: 'alice', password: 'correct horse battery' }
const MALLORY = { username: 'mallory', password: 'mallory-password' }
const CAROL = { username: 'carol', password: 'carol-password-1' }

let t: TestIdp

beforeAll(async () => {
  t = await startTestIdp({}, async (store) => {
    await createAccount(store, { ...ALICE, clientIds: ['alice-gw'] })
    await createAccount(store, { ...CAROL, clientIds: ['carol-gw'] })
    const mallory = await createAccount(store, { ...MALLORY, clientIds: ['m-1'] })
    await store.accounts.update(mallory.id, { disabled: true })
  })
})
afterAll(async () => {
  await t?.close()
})

/** The markup of the element whose opening tag has `id="<id>"`. */
const tagWithId = (page: BrowserPage, id: string): string => new RegExp(`<input id="${id}"[^>]*>`).exec(page.html)?.[0] ?? ''

/** Signs in to a fresh device authorization with `credentials` and returns the page the login ends on. */
async function loginPageAfter(credentials: { username: string; password: string }): Promise<BrowserPage> {
  const da = await deviceAuthorization(t.issuer)
  const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete), ...credentials }).catch((e: unknown) => e)
  if (!(err instanceof ScriptedLoginError)) throw new Error('the login was not refused')
  return err.page
}

describe('autofocus', () => {
  it('puts the cursor in the code field of the device page', async () => {
    const res = await fetch(`${t.issuer}/device`)
    const page = parsePage(`${t.issuer}/device`, res.status, res.headers, await res.text())
    expect(tagWithId(page, 'user_code')).toBe(
      '<input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus value="">',
    )
  })

  it('puts the cursor in the username field of a fresh login page, and in the password field once the username is filled in', async () => {
    const da = await deviceAuthorization(t.issuer)
    let fresh: BrowserPage | undefined
    const refused = await completeDeviceLogin({
      verificationUriComplete: String(da.verification_uri_complete),
      username: 'alice',
      password: 'not her password',
      onPage: (p) => {
        if (p.name === 'login' && !p.alert) fresh = p
      },
    }).catch((e: unknown) => (e as ScriptedLoginError).page)
    expect(tagWithId(fresh!, 'username')).toBe(
      '<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="">',
    )
    expect(tagWithId(fresh!, 'password')).toBe('<input id="password" name="password" type="password" autocomplete="current-password" required>')
    expect(tagWithId(refused, 'username')).not.toContain('autofocus')
    expect(tagWithId(refused, 'password')).toBe(
      '<input id="password" name="password" type="password" autocomplete="current-password" required autofocus aria-invalid="true" aria-describedby="login-error">',
    )
  })
})

describe('messages for a refused account or code', () => {
  it('tells a disabled account so after its right password, and a wrong password only that it is wrong', async () => {
    const right = await loginPageAfter(MALLORY)
    expect({ status: right.status, name: right.name, alert: right.alert }).toEqual({
      status: 403,
      name: 'login',
      alert: 'This account is disabled. Ask an administrator to enable it.',
    })
    const wrong = await loginPageAfter({ ...MALLORY, password: 'not-the-password' })
    expect({ status: wrong.status, name: wrong.name, alert: wrong.alert }).toEqual({ status: 400, name: 'login', alert: 'Incorrect username or password.' })
  })

  it('says a code was already used, also once that code has expired', async () => {
    const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE })
    const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
    await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...ALICE })
    await polling
    const again = async (): Promise<string | undefined> => {
      const err = await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...ALICE }).catch((e: unknown) => e)
      return (err as ScriptedLoginError).page.alert
    }
    expect(await again()).toBe('That code has already been used. Start again on your device.')
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (da.expires_in + 2) * 1000 })
    try {
      expect(await again()).toBe('That code has already been used. Start again on your device.')
    } finally {
      vi.useRealTimers()
    }
  })

  it('says a code that was never used has expired', async () => {
    const da = await deviceAuthorization(t.issuer)
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (Number(da.expires_in) + 2) * 1000 })
    try {
      const err = await completeDeviceLogin({ verificationUriComplete: String(da.verification_uri_complete) }).catch((e: unknown) => e)
      expect((err as ScriptedLoginError).page.alert).toBe('That code has expired. Start again on your device.')
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('the device-approved page', () => {
  it('names the MQTT client id the device was given: the one its ID token carries', async () => {
    const browser = new ScriptedBrowser()
    // Carol's first device gets her configured id, the second one a derived id of its own.
    for (const expected of [/^carol-gw$/, /^carol-gw-[a-z2-7]{10}$/]) {
      const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE })
      const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
      const page = await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...CAROL, browser })
      const clientid = (await polling).claims()?.clientid as string
      expect(clientid).toMatch(expected)
      expect(page.name).toBe('device-success')
      expect(page.html).toContain(`<p><strong>mqtt-oidc CLI</strong> is now signed in. It connects to MQTT with the client id <code>${clientid}</code>.</p>`)
    }
  })

  it('names no client id when the device did not ask for MQTT access', async () => {
    const da = await oidc.initiateDeviceAuthorization(t.config, { scope: 'openid' })
    const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
    const page = await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, ...ALICE })
    await polling
    expect(page.html).toContain('<p><strong>mqtt-oidc CLI</strong> is now signed in. You can close this page and return to your device.</p>')
  })
})

describe("GET / (the IdP's root)", () => {
  it('says what this is and links to the console, the device page and the discovery document, under the strict CSP', async () => {
    const res = await fetch(`${t.issuer}/`)
    const page = parsePage(`${t.issuer}/`, res.status, res.headers, await res.text())
    expect({ status: page.status, name: page.name, forms: page.forms }).toEqual({ status: 200, name: 'home', forms: [] })
    expect(page.html).toContain('<title>Sign-in service · mqtt-oidc</title>')
    expect(page.html).toContain('<p>This is the sign-in service of mqtt-oidc, which gives people and devices short-lived credentials for MQTT brokers.</p>')
    const links = [...page.html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [m[1], m[2]])
    expect(links).toEqual([
      ['/device', 'Connect a device'],
      [`${EXCHANGE_URL}/console`, 'Administration console'],
      ['/.well-known/openid-configuration', 'OpenID Connect discovery'],
    ])
    expect(res.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; style-src 'sha256-[^']+'; script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
    )
    expect(res.headers.get('x-frame-options')).toBe('DENY')
  })

  it('links to the documentation when one is configured', async () => {
    const withDocs = await startTestIdp({ docsUrl: 'https://docs.example.com/mqtt-oidc' })
    try {
      const html = await (await fetch(`${withDocs.issuer}/`)).text()
      expect(html).toContain('<a href="https://docs.example.com/mqtt-oidc">Documentation</a>')
    } finally {
      await withDocs.close()
    }
  })
})
