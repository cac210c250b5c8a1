import { decodeJwt } from 'jose'
import { connectAsync, type MqttClient } from 'mqtt'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverIssuer, exchangeToken, loginWithDeviceFlow } from '@mqtt-oidc/client'
import { runCliInProcess } from './support/run-cli-in-process.js'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// `pnpm start`'s layout: the IdP on idp.sqlite, the exchange on exchange.sqlite
// (following the IdP's store for cut-offs), the aedes broker on the feed.
// `users disable` through the real CLI, a live mqtt.js session.

let stack: TestStack

const cli = (args: string[]) => runCliInProcess(args, { dataDir: stack.dataDir, configDir: stack.configDir })

async function login(username: string, password: string): Promise<string> {
  const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, {
    onPrompt: async ({ verificationUriComplete }) => { await completeDeviceLogin({ verificationUriComplete, username, password }) },
  })
  if (!tokens.idToken) throw new Error('no ID token')
  return tokens.idToken
}

async function connect(subjectToken: string): Promise<MqttClient> {
  const { token, clientId } = await exchangeToken({ exchangeUrl: stack.exchangeUrl, broker: 'demo', subjectToken })
  return connectAsync(stack.mqttUrl, { clientId, username: clientId, password: token, reconnectPeriod: 0, protocolVersion: 4 })
}

async function exchangeRefusal(subjectToken: string): Promise<unknown> {
  const res = await fetch(`${stack.exchangeUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', audience: 'demo',
    }),
  })
  return { status: res.status, body: await res.json() }
}

beforeAll(async () => {
  stack = await startTestStack()
  await stack.addAccount('bystander', 'bystander-password', ['bystander-1'])
}, 60_000)
afterAll(async () => { await stack?.close() })

describe('mqtt-oidc users disable', () => {
  it('closes the live MQTT sessions of the account, refuses its old ID tokens at the exchange, and a new login works once re-enabled', async () => {
    const idToken = await login(stack.demo.username, stack.demo.password)
    const live = await connect(idToken)
    const other = await connect(await login('bystander', 'bystander-password'))
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()))
    let otherClosed = false
    other.once('close', () => { otherClosed = true })

    expect(await cli(['users', 'disable', 'demo'])).toEqual({ code: 0, stdout: '', stderr: 'Disabled demo.\n' })
    // Revoked through the exchange's feed: the broker closes the session (the cut-off is followed every second).
    await closed
    await live.endAsync(true)
    expect(await exchangeRefusal(idToken)).toEqual({
      status: 400, body: { error: 'invalid_request', error_description: 'subject_token\'s account is disabled' },
    })

    expect(await cli(['users', 'enable', 'demo'])).toEqual({ code: 0, stdout: '', stderr: 'Enabled demo.\n' })
    expect(await exchangeRefusal(idToken)).toEqual({
      status: 400, body: { error: 'invalid_request', error_description: 'subject_token was issued before its account was disabled; sign in again' },
    })
    const again = await connect(await login(stack.demo.username, stack.demo.password))
    expect(again.connected).toBe(true)
    await again.endAsync()

    // Nobody else was touched.
    expect(otherClosed).toBe(false)
    expect(other.connected).toBe(true)
    await other.endAsync()
  }, 30_000)

  it('stops the account\'s refresh tokens for good: a disable ends its sign-ins, re-enabling does not revive them', async () => {
    const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
    const tokens = await loginWithDeviceFlow(config, {
      onPrompt: async ({ verificationUriComplete }) => { await completeDeviceLogin({ verificationUriComplete, username: 'bystander', password: 'bystander-password' }) },
    })
    expect(decodeJwt(tokens.idToken!).username).toBe('bystander')
    expect((await cli(['users', 'disable', 'bystander'])).code).toBe(0)
    expect((await cli(['users', 'enable', 'bystander'])).code).toBe(0)
    const res = await fetch(`${stack.idpUrl}/token`, { method: 'POST', body: new URLSearchParams({ client_id: 'mqtt-oidc-cli', grant_type: 'refresh_token', refresh_token: tokens.refreshToken! }) })
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } })
  }, 30_000)
})
