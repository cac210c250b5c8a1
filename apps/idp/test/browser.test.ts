import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oidc from 'openid-client'
import { createAccount } from '../src/index.js'
import { launchChromium, type Chromium } from '@mqtt-oidc/test-support/launch-chromium'
import { SCOPE, startTestIdp, type TestIdp } from './support/test-idp.js'

const ALICE = { username: 'alice', password: 'correct horse battery' }

let t: TestIdp
let chromium: Chromium

beforeAll(async () => {
  t = await startTestIdp({}, async (store) => { await createAccount(store, { ...ALICE, clientIds: ['gw-17'], clientIdMode: 'shared' }) })
  chromium = await launchChromium()
})
afterAll(async () => {
  await chromium?.close()
  await t?.close()
})

describe('device flow in Chromium', () => {
  it('types the code, confirms the device, signs in with the keyboard, consents, and the device gets its tokens', async () => {
    const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE })
    const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
    const page = await chromium.newPage()

    await page.goto(da.verification_uri)
    await chromium.screenshot(page, 'device-1-code')
    // The cursor starts in the code field: a person can type straight away.
    expect(await page.evaluate('document.activeElement?.id')).toBe('user_code')
    await page.keyboard.type(da.user_code.replace('-', '').toLowerCase())
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="device-confirm"]')
    expect(await page.locator('.code').textContent()).toBe(da.user_code)
    await chromium.screenshot(page, 'device-2-confirm')
    await page.getByRole('button', { name: 'Yes, sign in the device' }).click()

    await page.waitForSelector('main[data-page="login"]')
    await chromium.screenshot(page, 'device-3-login')
    expect(await page.evaluate('document.activeElement?.id')).toBe('username')
    await page.keyboard.type(ALICE.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type(ALICE.password)
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="consent"]')
    await chromium.screenshot(page, 'device-4-consent')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForSelector('main[data-page="device-success"]')
    expect(await page.locator('main code').textContent()).toBe('gw-17')
    await chromium.screenshot(page, 'device-5-success')

    expect((await polling).claims()).toMatchObject({ clientid: 'gw-17', username: 'alice' })
    await page.close()
  })

  it('follows verification_uri_complete through the auto-submit page (its script allowed by the CSP hash)', async () => {
    const da = await oidc.initiateDeviceAuthorization(t.config, { scope: SCOPE })
    const polling = oidc.pollDeviceAuthorizationGrant(t.config, da)
    const page = await chromium.newPage()
    await page.goto(da.verification_uri_complete ?? '')
    await page.waitForSelector('main[data-page="device-confirm"]')
    await page.getByRole('button', { name: 'Yes, sign in the device' }).click()
    // Signed in by the previous test: no login page; a native client is asked for consent every time.
    await page.waitForSelector('main[data-page="consent"]')
    expect(await page.locator('main li').allTextContents()).toEqual([
      'Know who you are (your account id)', 'Your MQTT client id and username', 'Stay signed in on that device (refresh tokens)',
    ])
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForSelector('main[data-page="device-success"]')
    expect((await polling).id_token).toEqual(expect.any(String))
    expect(chromium.problems).toEqual([])
    await page.close()
  })
})

describe('the IdP\'s root page in Chromium', () => {
  it('renders under the strict CSP and reaches its links with the keyboard', async () => {
    const page = await chromium.newPage()
    await page.goto(`${t.issuer}/`)
    await page.waitForSelector('main[data-page="home"]')
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Connect a device')
    await chromium.screenshot(page, 'idp-home')
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="device-code"]')
    expect(chromium.problems).toEqual([])
    await page.close()
  })
})

describe('authorization code flow in Chromium', () => {
  let callback: Server
  let redirectUri: string
  const received: URL[] = []

  beforeAll(async () => {
    // The CLI's loopback redirect listener (RFC 8252 §7.3), on a port the OS picks.
    callback = createServer((req, res) => {
      received.push(new URL(req.url ?? '/', redirectUri))
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Signed in</title><p>You can close this window.</p>')
    })
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve))
    redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`
  })
  afterAll(async () => { await new Promise((resolve) => callback.close(resolve)) })

  it('signs in, consents and lands on the loopback redirect with a code that openid-client exchanges', async () => {
    await chromium.context.clearCookies()
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(t.config, {
      redirect_uri: redirectUri, scope: SCOPE, state, nonce, prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    })
    const page = await chromium.newPage()
    await page.goto(url.href)
    await page.waitForSelector('main[data-page="login"]')
    await chromium.screenshot(page, 'auth-code-1-login')
    await page.getByLabel('Username').fill(ALICE.username)
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForSelector('[role="alert"]')
    expect(await page.getByRole('alert').textContent()).toBe('Incorrect username or password.')
    await chromium.screenshot(page, 'auth-code-2-login-error')
    await page.getByLabel('Password').fill(ALICE.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForSelector('main[data-page="consent"]')
    await chromium.screenshot(page, 'auth-code-3-consent')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL((u) => u.href.startsWith(redirectUri))
    await chromium.screenshot(page, 'auth-code-4-callback')

    const landed = received.find((u) => u.pathname === '/callback')
    if (!landed) throw new Error('the loopback redirect was not reached')
    const tokens = await oidc.authorizationCodeGrant(t.config, landed, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce })
    expect(tokens.claims()).toMatchObject({ clientid: 'gw-17', username: 'alice', nonce })
    expect(chromium.problems).toEqual([])
    await page.close()
  })
})
