import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exchangeToken } from '@mqtt-oidc/client'
import { launchChromium, type Chromium } from '@mqtt-oidc/test-support/launch-chromium'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { runOnTerminal } from '@mqtt-oidc/test-support/run-on-terminal'
import { BIN } from './support/cli-bin.js'
import { runCliInProcess } from './support/run-cli-in-process.js'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { runTool } from './support/run-tool.js'
import { startOidcAgent, type TestOidcAgent } from './support/start-oidc-agent.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// oidc-agent, the usual OIDC token tool on Linux servers, against our IdP: the
// client is registered with `mqtt-oidc clients add` (a public native app,
// loopback redirect http://localhost as oidc-agent insists), oidc-gen signs the
// demo account in with the device flow and with the code flow (the person's
// browser is Chromium), oidc-token hands out tokens, and the ID token goes
// through the exchange to an MQTT CONNECT on aedes (mosquitto_pub).
//
// oidc-agent sends Authorization: Basic base64("oidc-agent:") for a public
// client: the IdP reads that as the `none` method the client is registered
// with (apps/idp/src/lib/public-client-basic.ts).

const CLIENT = 'oidc-agent'
const SCOPE = 'openid offline_access mqtt'

let stack: TestStack
let agent: TestOidcAgent
let chromium: Chromium

beforeAll(async () => {
  stack = await startTestStack({ idpClientIds: ['mqtt-oidc-cli', CLIENT], dynamicRegistration: true })
  const added = await runCliInProcess(['clients', 'add', CLIENT, '--native', '--name', 'oidc-agent', '--redirect-uri', 'http://localhost', '--scope', SCOPE], {
    dataDir: stack.dataDir,
    configDir: stack.configDir,
  })
  expect(added.code, added.stderr).toBe(0)
  agent = await startOidcAgent()
  chromium = await launchChromium()
}, 60_000)
afterAll(async () => {
  await chromium?.close()
  await agent?.close()
  await stack?.close()
})

/** oidc-gen for a client registered beforehand: public (empty secret), no prompts, the encryption password from a command. */
const gen = (account: string, flow: string, extra: string[] = []) =>
  agent.gen([
    account,
    '--issuer',
    stack.idpUrl,
    '--client-id',
    CLIENT,
    '--client-secret=',
    '--flow',
    flow,
    '--scope',
    SCOPE,
    '--pw-cmd',
    'echo agent-encryption-password',
    '--prompt',
    'none',
    '--confirm-yes',
    '--no-url-call',
    ...extra,
  ])

/** The ID token oidc-agent holds for `account`, exchanged for a broker token, as the MQTT password of mosquitto_pub. */
async function connectWith(account: string): Promise<{ idToken: Record<string, unknown>; connack: string }> {
  const idToken = await agent.token(['--id-token', account])
  const { token, clientId } = await exchangeToken({ exchangeUrl: stack.exchangeUrl, subjectToken: idToken, broker: 'demo' })
  const pub = runTool('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(stack.mqttPort),
    '-i',
    clientId,
    '-u',
    clientId,
    '-P',
    token,
    '-t',
    `devices/${clientId}/hello`,
    '-m',
    `from ${account}`,
    '-q',
    '1',
    '-d',
  ])
  const r = await pub.exited
  expect(r.code, r.stderr).toBe(0)
  return { idToken: decodeJwt(idToken), connack: /received (CONNACK \(\d+\))/.exec(r.stdout)?.[1] ?? r.stdout }
}

describe('oidc-agent with a client registered through mqtt-oidc clients add', () => {
  it("oidc-gen --flow device: the person approves in Chromium; oidc-token's ID token connects through the exchange", async () => {
    const run = gen('mqtt-device', 'device')
    const [, userCode] = await run.match(/enter the code: ([A-Z]{4}-[A-Z]{4}-[A-Z]{4})/)
    const page = await chromium.newPage()
    await page.goto(`${stack.idpUrl}/device`)
    await page.getByLabel('Code').fill(userCode ?? '')
    await page.keyboard.press('Enter')
    await page.getByRole('button', { name: 'Yes, sign in the device' }).click()
    await page.getByLabel('Username').fill(stack.demo.username)
    await page.getByLabel('Password').fill(stack.demo.password)
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="consent"]')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForSelector('main[data-page="device-success"]')
    await page.close()
    const done = await run.exited
    expect(done.code, `${done.stdout}${done.stderr}\n${agent.log().slice(-2000)}`).toBe(0)
    expect(done.stdout).toContain('Everything setup correctly!')

    expect(await agent.token(['mqtt-device'])).toMatch(/^\S{20,}$/)
    const { idToken, connack } = await connectWith('mqtt-device')
    expect(idToken).toMatchObject({ iss: stack.idpUrl, aud: CLIENT, username: stack.demo.username })
    expect(connack).toBe('CONNACK (0)')
  }, 60_000)

  it('oidc-gen --flow code: Chromium signs in and comes back to oidc-agent on http://localhost:<port>', async () => {
    const port = await freePort()
    const run = gen('mqtt-code', 'code', ['--redirect-uri', `http://localhost:${port}`, '--no-scheme'])
    const [url] = await run.match(new RegExp(`${stack.idpUrl}/auth\\?\\S+`))
    expect(new URL(url ?? '').searchParams.get('redirect_uri')).toBe(`http://localhost:${port}`)
    await chromium.context.clearCookies()
    const page = await chromium.newPage()
    await page.goto(url ?? '')
    await page.getByLabel('Username').fill(stack.demo.username)
    await page.getByLabel('Password').fill(stack.demo.password)
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-page="consent"]')
    expect(await page.locator('main li').allTextContents()).toContain('Stay signed in on that device (refresh tokens)')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL((u) => u.href.startsWith(`http://localhost:${port}/`))
    expect(await page.textContent('body')).toContain('Successfully performed code exchange')
    await page.close()
    const done = await run.exited
    expect(done.code, `${done.stdout}${done.stderr}\n${agent.log().slice(-2000)}`).toBe(0)
    expect(done.stdout).toContain('Everything setup correctly!')

    const { idToken, connack } = await connectWith('mqtt-code')
    expect(idToken).toMatchObject({ iss: stack.idpUrl, aud: CLIENT, username: stack.demo.username })
    expect(connack).toBe('CONNACK (0)')
    expect(chromium.problems).toEqual([])
  }, 60_000)

  it('clients registration-token at a terminal: when it expires and the token, said to be shown once; the token registers a client', async () => {
    const before = Math.floor(Date.now() / 1000)
    const shown = await runOnTerminal(BIN, ['clients', 'registration-token', '--expiration', '10m'], { env: { MQTT_OIDC_DATA_DIR: stack.dataDir, TZ: 'UTC' } })
    const after = Math.floor(Date.now() / 1000)
    expect(shown.code, shown.stdout).toBe(0)
    const lines = shown.stdout.split('\n').map((l) => l.split(/ {2,}/))
    expect(lines[0]).toEqual(['FIELD', 'VALUE'])
    expect(lines[1]?.[0]).toBe('expires')
    const expires = Date.parse((lines[1]?.[1] ?? '').replace(' ', 'T').replace(' +00:00', 'Z')) / 1000
    expect(expires).toBeGreaterThanOrEqual(before + 600)
    expect(expires).toBeLessThanOrEqual(after + 600)
    expect(lines[2]?.[0]).toBe('token')
    const token = lines[2]?.[1] ?? ''
    expect(token).toMatch(/^[\w-]{20,}$/)
    expect(lines.slice(3)).toEqual([['The token is shown only this once: an app registers itself with it (RFC 7591), e.g. oidc-gen --at <token>.'], ['']])
    const registered = await fetch(`${stack.idpUrl}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code'],
      }),
    })
    expect(registered.status, await registered.clone().text()).toBe(201)
  })

  // oidc-gen's default: RFC 7591 registration, here with an initial access token an admin made.
  // It registers a confidential web client (its secret stays in the agent); without its custom
  // scheme redirect, which only a native app may use, and with a loopback one instead.
  it('oidc-gen registers its own client (RFC 7591, --at); its tokens are exchanged only once the exchange accepts that client', async () => {
    const made = await runCliInProcess(['clients', 'registration-token', '--expiration', '10m'], { dataDir: stack.dataDir, configDir: stack.configDir })
    expect(made.code, made.stderr).toBe(0)
    const token = (JSON.parse(made.stdout) as { initial_access_token: string }).initial_access_token
    const run = agent.gen([
      'mqtt-dyn',
      '--issuer',
      stack.idpUrl,
      '--at',
      token,
      '--flow',
      'device',
      '--no-scheme',
      '--redirect-uri',
      'http://localhost:8080',
      '--scope',
      SCOPE,
      '--pw-cmd',
      'echo agent-encryption-password',
      '--prompt',
      'none',
      '--confirm-yes',
      '--no-url-call',
    ])
    const [, userCode] = await run.match(/enter the code: ([A-Z]{4}-[A-Z]{4}-[A-Z]{4})/)
    await completeDeviceLogin({ verificationUri: `${stack.idpUrl}/device`, userCode, username: stack.demo.username, password: stack.demo.password })
    const done = await run.exited
    expect(done.code, `${done.stdout}${done.stderr}`).toBe(0)

    const registered = (await stack.idpStore.oauthClients.list()).find((c) => c.name.startsWith('oidc-agent:mqtt-dyn'))
    expect(registered).toMatchObject({ applicationType: 'web', tokenEndpointAuthMethod: 'client_secret_basic', secretHash: expect.stringMatching(/^sha256:/) })
    const idToken = await agent.token(['--id-token', 'mqtt-dyn'])
    expect(decodeJwt(idToken).aud).toBe(registered?.clientId)
    await expect(exchangeToken({ exchangeUrl: stack.exchangeUrl, subjectToken: idToken, broker: 'demo' })).rejects.toMatchObject({
      error: 'invalid_request',
      error_description: 'subject_token audience is not accepted here',
    })
  }, 60_000)
})
