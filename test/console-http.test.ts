/**
 * The console's session and request rules, on the wire: cookie attributes,
 * CSRF refusals, tokens kept off the page and out of the store's keys, and
 * sign-ins that end (account disabled, removed from the admin group). The
 * person is the scripted browser of the IdP tests (plain fetch and a cookie jar).
 */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createExchange, readConsoleClient } from '@mqtt-oidc/exchange'
import { completeAuthCodeLogin, parsePage, ScriptedBrowser, type BrowserPage } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

const ADMIN = { username: 'carol', password: 'carol-password-1' }

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack()
  await stack.addAccount(ADMIN.username, ADMIN.password, ['carol-gw'], ['mqtt-oidc-admins'])
}, 30_000)
afterAll(async () => {
  await stack?.close()
})

/** Signs in to the console as `who`; returns the browser (its jar holds the session cookie) and the console page it lands on. */
async function signIn(who = ADMIN): Promise<{ browser: ScriptedBrowser; page: BrowserPage; setCookies: string[] }> {
  const browser = new ScriptedBrowser()
  const start = await fetch(`${stack.exchangeUrl}/console/login`, { redirect: 'manual' })
  const setCookies = start.headers.getSetCookie()
  browser.jar.store(new URL(`${stack.exchangeUrl}/console/login`), setCookies)
  const callback = await completeAuthCodeLogin(start.headers.get('location')!, { ...who, browser })
  const landed = await browser.get(callback)
  if ('redirectedTo' in landed) throw new Error(`left the console for ${landed.redirectedTo}`)
  return { browser, page: landed, setCookies: [...setCookies, ...browser.jar.header(new URL(`${stack.exchangeUrl}/console`))!.split('; ')] }
}

const csrfOf = (page: BrowserPage): string => /<meta name="csrf-token" content="([^"]+)">/.exec(page.html)![1]!

async function post(browser: ScriptedBrowser, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.exchangeUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: browser.jar.header(new URL(`${stack.exchangeUrl}${path}`)) ?? '', 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  })
}

describe('console sessions', () => {
  it('starts with a sign-in cookie and ends with a session cookie: HttpOnly, SameSite=Lax, path /console, not Secure over http', async () => {
    const start = await fetch(`${stack.exchangeUrl}/console/login`, { redirect: 'manual' })
    expect(start.status).toBe(303)
    expect(start.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^mqtt-oidc-console-login=[\w-]{43}; Max-Age=600; Path=\/console; HttpOnly; SameSite=Lax$/),
    ])
    const location = new URL(start.headers.get('location')!)
    expect(Object.fromEntries(location.searchParams)).toEqual({
      client_id: 'mqtt-oidc-console',
      response_type: 'code',
      redirect_uri: `${stack.exchangeUrl}/console/callback`,
      scope: 'openid mqtt-oidc:admin',
      resource: stack.exchangeUrl,
      state: expect.stringMatching(/^[\w-]{43}$/),
      nonce: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge_method: 'S256',
    })
    const { page } = await signIn()
    expect(page.name).toBe('brokers')
  })

  it("uses __Secure- cookies marked Secure when the exchange's public URL is https", async () => {
    const store = createSqliteStore(join(stack.dataDir, 'https-exchange.sqlite'))
    const exchange = createExchange({
      store,
      issuer: 'https://exchange.example.com',
      idp: { issuer: stack.idpUrl },
      logLevel: 'silent',
      console: { client: readConsoleClient(join(stack.dataDir, 'console-client.json')) },
    })
    const { url } = await exchange.listen()
    try {
      const start = await fetch(`${url}/console/login`, { redirect: 'manual' })
      expect(start.headers.getSetCookie()).toEqual([
        expect.stringMatching(/^__Secure-mqtt-oidc-console-login=[\w-]{43}; Max-Age=600; Path=\/console; HttpOnly; SameSite=Lax; Secure$/),
      ])
    } finally {
      await exchange.close()
      await store.close()
    }
  })

  it('keeps the tokens on the server: not in the pages, and the store keys sessions by a hash of the cookie', async () => {
    const { browser, page } = await signIn()
    const cookie = browser.jar.header(new URL(`${stack.exchangeUrl}/console`))!
    const id = /(?:^|; )mqtt-oidc-console=([\w-]+)/.exec(cookie)![1]!
    const stored = await stack.exchangeStore.oidc.find('MqttOidcConsoleSession', createHash('sha256').update(id).digest('hex'))
    expect(stored).toMatchObject({ username: 'carol', accessToken: expect.any(String), refreshToken: expect.any(String) })
    expect(await stack.exchangeStore.oidc.find('MqttOidcConsoleSession', id)).toBeUndefined()
    const sessions = (await browser.get(`${stack.exchangeUrl}/console/brokers/demo/sessions`)) as BrowserPage
    for (const html of [page.html, sessions.html]) {
      for (const token of [stored!.accessToken, stored!.refreshToken, stored!.idToken] as string[]) {
        for (const part of token.split('.')) expect(html).not.toContain(part)
      }
    }
  })

  it('refuses a state change without the CSRF token, from another origin or another site, and changes nothing', async () => {
    const { browser, page } = await signIn()
    const csrf = csrfOf(page)
    const issue = { number: '1', expiration: '1h' }
    const count = async (): Promise<number> => (await stack.exchangeStore.credentials.search('demo', { limit: 1000 })).length
    const before = await count()
    for (const [form, headers] of [
      [issue, {}],
      [{ ...issue, csrf: 'not-the-token' }, {}],
      [{ ...issue, csrf }, { origin: 'http://evil.example' }],
      [{ ...issue, csrf }, { 'sec-fetch-site': 'same-site' }],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const res = await post(browser, '/console/brokers/demo/issue', form, headers)
      expect(res.status).toBe(403)
      expect(parsePage(res.url, res.status, res.headers, await res.text()).alert).toMatch(
        /^Nothing was done: the (form has expired|request came from another site)\. Reload the page and try again\.$/,
      )
    }
    expect(await count()).toBe(before)
    const ok = await post(browser, '/console/brokers/demo/issue', { ...issue, csrf }, { origin: stack.exchangeUrl, 'sec-fetch-site': 'same-origin' })
    expect(ok.status).toBe(200)
    expect(await count()).toBe(before + 1)
  })

  it("answers the console's script with JSON: a revoke with the CSRF header, a 401 once signed out", async () => {
    const { browser, page } = await signIn()
    const issued = await post(browser, '/console/brokers/demo/issue', { clientIds: 'json-gw', csrf: csrfOf(page) })
    const jti = /<td data-label="jti"><code>([^<]+)<\/code>/.exec(await issued.text())![1]!
    const json = { accept: 'application/json', 'x-csrf-token': csrfOf(page) }
    const revoked = await post(browser, '/console/brokers/demo/revoke', { jti }, json)
    expect({ status: revoked.status, body: await revoked.json() }).toEqual({ status: 200, body: { revision: expect.any(Number), revoked: [jti] } })
    await post(browser, '/console/logout', { csrf: csrfOf(page) })
    const after = await post(browser, '/console/brokers/demo/revoke', { jti }, json)
    expect({ status: after.status, body: await after.json() }).toEqual({
      status: 401,
      body: { error: 'invalid_token', error_description: 'sign in to the console again' },
    })
  })
})

describe('a sign-in that ends', () => {
  /** Makes the session's access token due for a refresh at the next request. */
  async function expireAccessToken(browser: ScriptedBrowser): Promise<void> {
    const id = /(?:^|; )mqtt-oidc-console=([\w-]+)/.exec(browser.jar.header(new URL(`${stack.exchangeUrl}/console`))!)![1]!
    const key = createHash('sha256').update(id).digest('hex')
    const store: Store = stack.exchangeStore
    const session = (await store.oidc.find('MqttOidcConsoleSession', key))!
    await store.oidc.upsert('MqttOidcConsoleSession', key, { ...session, accessTokenExpiresAt: 0 }, 3600)
  }

  it('shows the not-an-admin page at the next refresh once the person left the admin group', async () => {
    await stack.addAccount('dave', 'dave-password-1', ['dave-gw'], ['mqtt-oidc-admins'])
    const { browser } = await signIn({ username: 'dave', password: 'dave-password-1' })
    const dave = (await stack.idpStore.accounts.findByUsername('dave'))!
    await stack.idpStore.accounts.update(dave.id, { groups: [] })
    await expireAccessToken(browser)
    const page = (await browser.get(`${stack.exchangeUrl}/console`)) as BrowserPage
    expect({ status: page.status, name: page.name }).toEqual({ status: 403, name: 'not-admin' })
    expect(((await browser.get(`${stack.exchangeUrl}/console`)) as BrowserPage).name).toBe('sign-in')
  })

  it('asks to sign in again once the account is disabled (the IdP refuses the refresh)', async () => {
    await stack.addAccount('erin', 'erin-password-1', ['erin-gw'], ['mqtt-oidc-admins'])
    const { browser } = await signIn({ username: 'erin', password: 'erin-password-1' })
    const erin = (await stack.idpStore.accounts.findByUsername('erin'))!
    await stack.idpStore.accounts.update(erin.id, { disabled: true })
    await expireAccessToken(browser)
    const page = (await browser.get(`${stack.exchangeUrl}/console/brokers/demo`)) as BrowserPage
    expect({ status: page.status, name: page.name }).toEqual({ status: 401, name: 'sign-in' })
    expect(page.html).toContain('Your sign-in has ended. Sign in again.')
  })
})
