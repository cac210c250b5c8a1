/**
 * The web console in Chromium, end to end on the embedded stack: a person
 * of the admin group signs in through our IdP with the keyboard only,
 * issues credentials and downloads them, searches, and revokes a real
 * mqtt.js session on the aedes broker while its row drops from the live
 * table; someone outside the group is refused. At desktop width and at 390
 * px, under the console's CSP (nonces, Trusted Types, no framing).
 * Screenshots: test-artifacts/console/.
 */
import { readFileSync } from 'node:fs'
import { connectAsync, type MqttClient } from 'mqtt'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, type Chromium } from '@mqtt-oidc/test-support/launch-chromium'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

const ADMIN = { username: 'alice', password: 'alice-password-1' }
const OUTSIDER = { username: 'bob', password: 'bob-password-1' }

let stack: TestStack
let desktop: Chromium
let phone: Chromium
const clients: MqttClient[] = []

beforeAll(async () => {
  // Idle nodes report once a minute: a row that drops at once was pushed, not found by a heartbeat.
  stack = await startTestStack({ sessionHeartbeatSeconds: 60 })
  await stack.addAccount(ADMIN.username, ADMIN.password, ['alice-gw'], ['mqtt-oidc-admins'])
  await stack.addAccount(OUTSIDER.username, OUTSIDER.password, ['bob-gw'], ['ops'])
  desktop = await launchChromium({ artifacts: 'console', viewport: { width: 1280, height: 800 }, acceptDownloads: true })
  phone = await launchChromium({ artifacts: 'console', viewport: { width: 390, height: 844 } })
}, 60_000)
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {})
  await desktop?.close()
  await phone?.close()
  await stack?.close()
})

/** Presses Tab until the focused element is the one `matches` describes (at most 60 times), as a keyboard user would. */
async function tabTo(page: Page, matches: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab')
    const focused = String(
      await page.evaluate(
        `(() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') || e.textContent || e.getAttribute('name') || '').trim() : '' })()`,
      ),
    )
    if (focused === matches) {
      // Visible focus: the focused control draws an outline.
      const outline = String(
        await page.evaluate(`getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth`),
      )
      expect(outline, `focus outline of "${matches}"`).not.toMatch(/^none|0px$/)
      return
    }
  }
  throw new Error(`Tab never reached "${matches}" on ${page.url()}`)
}

/** Signs in through the console with the keyboard only: the console's Sign in, the IdP's login page, its consent page. */
async function signIn(page: Page, who: { username: string; password: string }, shots?: string): Promise<void> {
  await page.goto(`${stack.exchangeUrl}/console`)
  await page.waitForSelector('main[data-page="sign-in"]')
  if (shots) await desktop.screenshot(page, `${shots}-01-sign-in`)
  await tabTo(page, 'Sign in')
  await page.keyboard.press('Enter')
  await page.waitForSelector('main[data-page="login"]')
  if (shots) await desktop.screenshot(page, `${shots}-02-idp-login`)
  // The cursor starts in the username field.
  await page.keyboard.type(who.username)
  await page.keyboard.press('Tab')
  await page.keyboard.type(who.password)
  await page.keyboard.press('Enter')
  await page.waitForSelector('main[data-page="consent"]')
  if (shots) await desktop.screenshot(page, `${shots}-03-idp-consent`)
  await tabTo(page, 'Allow')
  await page.keyboard.press('Enter')
}

/** The HTML as served has no inline script or style for the CSP to allow. */
function expectNoInlineCode(html: string): void {
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
  expect(html).not.toMatch(/<style\b/)
  expect(html).not.toMatch(/<[^>]*\sstyle=/)
  expect(html).not.toMatch(/<[^>]*\son[a-z]+=/)
}

describe('the console in Chromium', () => {
  let page: Page

  it('signs an admin in with the keyboard only, under a strict CSP', async () => {
    page = await desktop.newPage()
    const responses: Array<Promise<{ csp: string | undefined; html: string }>> = []
    page.on('response', (res) => {
      if (!res.url().startsWith(`${stack.exchangeUrl}/console`) || res.request().resourceType() !== 'document' || (res.status() >= 300 && res.status() < 400))
        return
      responses.push(res.text().then((html) => ({ csp: res.headers()['content-security-policy'], html })))
    })
    await signIn(page, ADMIN, 'console')
    await page.waitForSelector('main[data-page="brokers"]')
    expect(await page.locator('header.top').textContent()).toContain('Signed in as alice')
    await desktop.screenshot(page, 'console-04-brokers')
    expect(responses).toHaveLength(2) // the sign-in page, the brokers
    for (const { csp, html } of await Promise.all(responses)) {
      expect(csp).toMatch(
        /^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]{24}'; style-src 'nonce-[A-Za-z0-9+/=]{24}'; connect-src 'self'; form-action 'self' http:\/\/127\.0\.0\.1:\d+; frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types 'none'$/,
      )
      expectNoInlineCode(html)
    }
    expect(desktop.problems).toEqual([])
  })

  it('shows a broker with its policy, and issues 3 credentials that download as JSON and .env', async () => {
    await tabTo(page, 'demo')
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="broker"]')
    expect(await page.locator('dl.facts').textContent()).toContain('Signing algorithm')
    await tabTo(page, 'number')
    await page.keyboard.press('Control+A')
    await page.keyboard.type('3')
    await page.keyboard.press('Tab')
    await page.keyboard.type('1h')
    await desktop.screenshot(page, 'console-05-broker')
    await tabTo(page, 'Issue credentials')
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="issued"]').catch(async (err: unknown) => {
      console.log(await page.locator('main').textContent())
      throw err
    })
    expect(await page.locator('h1').textContent()).toBe('3 credentials issued for demo')
    await desktop.screenshot(page, 'console-06-issued')

    await tabTo(page, 'Download JSON')
    const [json] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')])
    expect(json.suggestedFilename()).toMatch(/^demo-credentials-\d{8}T\d{6}\.json$/)
    const tokens = JSON.parse(readFileSync(await json.path(), 'utf8')) as Record<string, string>
    expect(Object.keys(tokens)).toHaveLength(3)
    await tabTo(page, 'Download .env')
    const [env] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')])
    expect(env.suggestedFilename()).toMatch(/^demo-credentials-\d{8}T\d{6}\.env$/)
    const dotenv = readFileSync(await env.path(), 'utf8')
    const [first] = Object.entries(tokens)
    expect(dotenv).toContain(`MQTT_CLIENT_ID_1="${first![0]}"\nMQTT_USERNAME_1="${first![0]}"\nMQTT_PASSWORD_1="${first![1]}"\n`)
    expect(dotenv).toMatch(/^# mqtt-oidc credentials for broker demo, issued .* UTC by alice\n/)
    expect(desktop.problems).toEqual([])
  })

  it('finds a credential by a part of its client id', async () => {
    const issued = await page.locator('td[data-label="Client id"] code').allTextContents()
    await tabTo(page, 'All credentials')
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="credentials"]')
    await tabTo(page, 'search')
    await page.keyboard.type(issued[1]!.slice(-10))
    await page.keyboard.press('Enter')
    await page.waitForURL(/search=/)
    expect(await page.locator('tbody td[data-label="Client id"]').allTextContents()).toEqual([issued[1]])
    expect(await page.locator('tbody td[data-label="State"]').textContent()).toContain('live')
    await desktop.screenshot(page, 'console-07-credentials-search')
  })

  it('shows a live mqtt.js session and drops its row as soon as Revoke is pressed', async () => {
    // A real client connects with a credential issued through the console.
    await page.goto(`${stack.exchangeUrl}/console/brokers/demo`)
    await page.fill('#clientIds', 'console-gw-1')
    await page.getByRole('button', { name: 'Issue credentials' }).click()
    await page.waitForSelector('main[data-page="issued"]').catch(async (err: unknown) => {
      console.log(await page.locator('main').textContent())
      throw err
    })
    const token = (await page.locator('td.token code').textContent())!
    const client = await connectAsync(stack.mqttUrl, { clientId: 'console-gw-1', username: 'console-gw-1', password: token, reconnectPeriod: 0 })
    clients.push(client)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))

    await page.goto(`${stack.exchangeUrl}/console/brokers/demo/sessions`)
    await page.waitForSelector('#live-status[data-state="live"]')
    const row = page.locator('tr[data-client-id="console-gw-1"]')
    await row.waitFor()
    expect(await row.locator('td[data-label="Address"]').textContent()).toBe('127.0.0.1')
    await desktop.screenshot(page, 'console-08-sessions')

    await tabTo(page, `Revoke console-gw-1 (jti ${await row.getAttribute('data-jti')})`)
    const pressed = Date.now()
    await page.keyboard.press('Enter')
    await row.waitFor({ state: 'detached' })
    const dropped = Date.now() - pressed
    await closed
    console.info(`console: revoke pressed -> session row gone in ${dropped} ms (pushed; the idle heartbeat is 60 s)`)
    expect(await page.locator('#live-status').textContent()).toMatch(/^Live: /)
    // The keyboard stays in the table (the next row's button, or the table's heading).
    expect(await page.evaluate('document.activeElement?.id || document.activeElement?.tagName')).not.toBe('BODY')
    await desktop.screenshot(page, 'console-09-session-dropped')
    expect(desktop.problems).toEqual([])
  })

  it('lists the revocation in the history, and the credential can be unrevoked', async () => {
    await page.goto(`${stack.exchangeUrl}/console/brokers/demo/revocations`)
    expect(await page.locator('tbody tr').first().locator('td[data-label="Client id"]').textContent()).toBe('console-gw-1')
    await desktop.screenshot(page, 'console-10-history')
    await page.goto(`${stack.exchangeUrl}/console/brokers/demo/credentials?search=console-gw-1`)
    await tabTo(page, `Unrevoke console-gw-1 (jti ${(await page.locator('td[data-label="jti"] code').textContent())!})`)
    await page.keyboard.press('Enter')
    await page.waitForSelector('p.notice')
    expect(await page.locator('p.notice').textContent()).toMatch(/^Unrevoked jti /)
    expect(await page.locator('tbody td[data-label="State"]').textContent()).toContain('live')
  })

  it('signs out (also at the IdP)', async () => {
    await page.goto(`${stack.exchangeUrl}/console`)
    await tabTo(page, 'Sign out')
    await page.keyboard.press('Enter')
    // The IdP asks whether to sign out there too.
    await page.waitForSelector('main[data-page="logout"]')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForSelector('main[data-page="signed-out"]')
    await page.goto(`${stack.exchangeUrl}/console`)
    await page.waitForSelector('main[data-page="sign-in"]')
    await page.close()
  })

  it('refuses a person outside the admin group with a page that says why', async () => {
    const other = await desktop.newPage()
    await signIn(other, OUTSIDER)
    await other.waitForSelector('main[data-page="not-admin"]')
    expect(await other.locator('[role="alert"]').innerText()).toBe(
      "You signed in as bob, an account that may not administer brokers: the console is for accounts in the identity provider's admin group.",
    )
    await desktop.screenshot(other, 'console-11-not-admin')
    // No session was made: the console still asks to sign in.
    expect((await fetch(`${stack.exchangeUrl}/console`, { headers: { cookie: await cookieHeader(other) } })).status).toBe(401)
    await other.close()
  })
})

describe('the console at 390 px', () => {
  it('fits the pages to a phone: no sideways scrolling, tables as labelled cards', async () => {
    const page = await phone.newPage()
    await page.goto(`${stack.exchangeUrl}/console`)
    await page.getByRole('link', { name: 'Sign in' }).click()
    await page.waitForSelector('main[data-page="login"]')
    await page.keyboard.type(ADMIN.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type(ADMIN.password)
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="consent"], main[data-page="brokers"]')
    if ((await page.locator('main[data-page="consent"]').count()) > 0) await page.getByRole('button', { name: 'Allow' }).click()
    const issued = await (async () => {
      await page.waitForSelector('main[data-page="brokers"]')
      await phone.screenshot(page, 'console-mobile-01-brokers')
      await page.goto(`${stack.exchangeUrl}/console/brokers/demo`)
      await phone.screenshot(page, 'console-mobile-02-broker')
      await page.fill('#clientIds', 'phone-gw-1')
      await page.getByRole('button', { name: 'Issue credentials' }).click()
      await page.waitForSelector('main[data-page="issued"]')
      await phone.screenshot(page, 'console-mobile-03-issued')
      return (await page.locator('td.token code').textContent())!
    })()
    clients.push(await connectAsync(stack.mqttUrl, { clientId: 'phone-gw-1', username: 'phone-gw-1', password: issued, reconnectPeriod: 0 }))
    await page.goto(`${stack.exchangeUrl}/console/brokers/demo/sessions?search=phone-gw`)
    await page.locator('tr[data-client-id="phone-gw-1"]').waitFor()
    await phone.screenshot(page, 'console-mobile-04-sessions')
    await page.goto(`${stack.exchangeUrl}/console/brokers/demo/credentials`)
    await phone.screenshot(page, 'console-mobile-05-credentials')
    for (const path of [
      '/console',
      '/console/brokers/demo',
      '/console/brokers/demo/sessions',
      '/console/brokers/demo/credentials',
      '/console/brokers/demo/revocations',
    ]) {
      await page.goto(`${stack.exchangeUrl}${path}`)
      expect(await page.evaluate('document.scrollingElement.scrollWidth'), path).toBeLessThanOrEqual(390)
    }
    // A table row is a card whose cells name their column.
    expect(await page.evaluate(`getComputedStyle(document.querySelector('tbody tr')).display`)).toBe('block')
    expect(phone.problems).toEqual([])
    await page.close()
  })
})

/** The page's cookies for the exchange, as a Cookie header. */
async function cookieHeader(page: Page): Promise<string> {
  return (await page.context().cookies(`${stack.exchangeUrl}/console`)).map((c) => `${c.name}=${c.value}`).join('; ')
}
