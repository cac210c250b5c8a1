import { statSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { connectAsync } from 'mqtt'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminClient, createTokenStore, discoverIssuer, loginWithDeviceFlow, tokenStoreKey } from '@mqtt-oidc/client'
import { BIN } from './support/cli-bin.js'
import { runNode, startNode } from '@mqtt-oidc/test-support/run-tsx'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// The CLI against the whole stack (IdP, exchange, aedes broker) in-process on
// 127.0.0.1, run as a child process through its bin launcher, exactly as
// `pnpm mqtt-oidc ...` runs it.

const CLIENT_ID = 'stack-gateway-1'

let stack: TestStack
let dir: string
let env: NodeJS.ProcessEnv
let mqttUrl: string

const cli = (args: string[]): Promise<RunResult> => runNode(BIN, args, { cwd: dir, env })

beforeAll(async () => {
  stack = await startTestStack()
  dir = stack.dataDir
  mqttUrl = stack.mqttUrl
  await stack.addAccount('gwuser', 'gateway-password-1', [CLIENT_ID])

  // `mqtt-oidc login --device`, with the person played by a scripted browser.
  const configDir = join(dir, 'config')
  const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, {
    onPrompt: async (p) => {
      const page = await completeDeviceLogin({ verificationUriComplete: p.verificationUriComplete, username: 'gwuser', password: 'gateway-password-1' })
      expect(page.name).toBe('device-success')
    },
  })
  await createTokenStore(configDir).set(tokenStoreKey(config), tokens)
  env = { MQTT_OIDC_CLI_ISSUER: stack.idpUrl, MQTT_OIDC_CLI_EXCHANGE_URL: stack.exchangeUrl, MQTT_OIDC_CLI_CONFIG_DIR: configDir, MQTT_OIDC_DATA_DIR: dir, MQTT_OIDC_CLI_BROKER_URL: mqttUrl }
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('mqtt-oidc token / pub / sub against the IdP, exchange and broker', () => {
  it('`token --broker demo` prints a broker JWT for the logged-in account', async () => {
    const r = await cli(['token', '--broker', 'demo'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(decodeJwt(r.stdout.trim())).toMatchObject({ aud: 'demo', sub: CLIENT_ID, username: 'gwuser' })
  })

  it('`login --device` prints the URL, the code and a QR code, then caches the login (0600); whoami and logout use it', async () => {
    const loginEnv = { ...env, MQTT_OIDC_CLI_CONFIG_DIR: join(dir, 'config-login') }
    const login = startNode(BIN, ['login', '--device'], { cwd: dir, env: loginEnv })
    await login.waitForStderr(/^Waiting for approval/m)
    const url = /^Or open \(or scan\) (\S+)$/m.exec(login.stderr())?.[1] ?? ''
    const page = await completeDeviceLogin({ verificationUriComplete: url, username: 'gwuser', password: 'gateway-password-1' })
    expect(page.name).toBe('device-success')
    const r = await login.done
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(new RegExp(`^To sign in, open ${env.MQTT_OIDC_CLI_ISSUER}/device and enter the code: \\S+$`, 'm'))
    expect(r.stderr).toMatch(/[▀▄█]{10,}/) // the QR code
    // gwuser is per-login and its first login (beforeAll) holds stack-gateway-1: this
    // second device gets its own derived client id rather than fighting over that one.
    expect(r.stderr).toMatch(/^Logged in to \S+ as gwuser \(MQTT client id stack-gateway-1-[a-z2-7]{10}\)\.$/m)
    expect(statSync(join(dir, 'config-login', 'tokens.json')).mode & 0o777).toBe(0o600)

    const who = await runNode(BIN, ['whoami'], { cwd: dir, env: loginEnv })
    expect(who.code).toBe(0)
    expect(who.stdout).toMatch(/^clientid  stack-gateway-1-[a-z2-7]{10}$/m)
    expect(who.stdout).toMatch(/^username  gwuser$/m)

    const logout = await runNode(BIN, ['logout'], { cwd: dir, env: loginEnv })
    expect(logout).toEqual({ code: 0, stdout: '', stderr: `Logged out of ${env.MQTT_OIDC_CLI_ISSUER}.\n` })
    const after = await runNode(BIN, ['token', '--broker', 'demo'], { cwd: dir, env: loginEnv })
    expect(after).toEqual({ code: 2, stdout: '', stderr: 'mqtt-oidc: not logged in: run `mqtt-oidc login --device`\n' })
  })

  // One login is one MQTT client id (the token's sub), and a broker lets only one
  // connection hold a client id; the other end of each round trip is therefore an
  // admin-issued credential (client id "observer", ACL "#"), as a backend would be.
  it('`sub -C 1 --json` prints a message published to devices/<clientid>/...', async () => {
    const topic = `devices/${CLIENT_ID}/hello`
    const sub = startNode(BIN, ['sub', '--broker', 'demo', '-t', `devices/${CLIENT_ID}/#`, '-C', '1', '--json', '-q', '1'], { cwd: dir, env })
    await sub.waitForStderr(/^Subscribed to devices\/stack-gateway-1\/# on demo as stack-gateway-1 /m)
    const observer = await observerClient()
    await observer.publishAsync(topic, 'hi', { qos: 1 })
    await observer.endAsync()
    const received = await sub.done
    expect(received.code).toBe(0)
    expect(received.stdout).toBe(`${JSON.stringify({ topic, message: 'hi', qos: 1, retain: false })}\n`)
  })

  it('`pub` delivers a message (from stdin) to a subscriber of devices/<clientid>/#', async () => {
    const observer = await observerClient()
    await observer.subscribeAsync(`devices/${CLIENT_ID}/#`, { qos: 1 })
    const message = new Promise<[string, string]>((resolve) => observer.once('message', (t, p) => resolve([t, p.toString()])))
    const pub = await runNode(BIN, ['pub', '--broker', 'demo', '-t', `devices/${CLIENT_ID}/up`, '-q', '1'], { cwd: dir, env, input: 'from stdin' })
    expect(pub).toEqual({ code: 0, stdout: '', stderr: '' })
    expect(await message).toEqual([`devices/${CLIENT_ID}/up`, 'from stdin'])
    await observer.endAsync()
  })

  it('`pub` at QoS 1 outside the ACL fails with one line and exit 1', async () => {
    const r = await cli(['pub', '--broker', 'demo', '-t', 'devices/someone-else/x', '-m', 'no', '-q', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe("mqtt-oidc: the broker closed the connection before the message to devices/someone-else/x was acknowledged (not allowed by the token's ACL?)\n")
  })

  it('`sub` outside the ACL fails with one line and exit 1', async () => {
    const r = await cli(['sub', '--broker', 'demo', '-t', 'devices/someone-else/#'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe("mqtt-oidc: the broker refused the subscription to devices/someone-else/# (not allowed by the token's ACL?)\n")
  })
})

/** An mqtt.js client with an admin-issued credential for client id "observer" (ACL "#"). */
async function observerClient(): Promise<MqttClient> {
  const creds = await createAdminClient({ dataDir: dir }).issueCredentials('demo', { clientIds: ['observer'], expiration: '15m' })
  return connectAsync(mqttUrl, { clientId: 'observer', username: '', password: creds.observer ?? '', reconnectPeriod: 0 })
}
