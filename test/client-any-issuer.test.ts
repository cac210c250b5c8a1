import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '@mqtt-oidc/store'
import type { Store } from '@mqtt-oidc/core'
import { createExchange, ensureBroker, ensureFeedCredential } from '@mqtt-oidc/exchange'
import type { Exchange } from '@mqtt-oidc/exchange'
import { createBroker } from '@mqtt-oidc/broker'
import type { Broker } from '@mqtt-oidc/broker'
import {
  connect, createTokenStore, discoverIssuer, exchangeToken, getIdToken, loginWithDeviceFlow, TokenExchangeRefused, tokenStoreKey,
} from '@mqtt-oidc/client'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import type { MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'
import { BIN } from './support/cli-bin.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// "Works with any OIDC issuer that the exchange trusts, not only ours": a
// second, independent OIDC provider (its own port, its own RS256 keys, its own
// accounts) is in the exchange's `trustedIssuers`. The client library logs in
// there with the device flow, exchanges its ID token and connects to aedes,
// next to a client logged in at our own IdP. An issuer the exchange does not
// trust gets nothing.

const BROKER = 'site-b'
let stack: TestStack
let other: MiniOidc
let untrusted: MiniOidc
let store: Store
let exchange: Exchange
let exchangeUrl: string
let broker: Broker
let mqttUrl: string
const clients: MqttClient[] = []

beforeAll(async () => {
  stack = await startTestStack()
  other = await startMiniOidc()
  untrusted = await startMiniOidc()
  store = createSqliteStore(join(stack.dataDir, 'exchange-b.sqlite'))
  // Everyone may read every device here, so a client of one issuer can watch one of the other.
  await ensureBroker(store, { id: BROKER, acl: { pub: ['devices/${clientid}/#'], sub: ['devices/#'] } })
  exchange = createExchange({
    store,
    idp: { issuer: stack.idpUrl },
    trustedIssuers: [{ issuer: other.issuer }],
    logLevel: 'silent',
  })
  exchangeUrl = (await exchange.listen()).url
  const feedCredentialFile = join(stack.dataDir, 'feed-credentials-b', BROKER)
  await ensureFeedCredential(store, BROKER, feedCredentialFile)
  broker = createBroker({ brokerId: BROKER, exchangeUrl, host: '127.0.0.1', mqttPort: 0, wsPort: 0, logLevel: 'silent', feedCredentialFile })
  ;({ mqttUrl } = await broker.listen())
}, 30_000)
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined)
  await broker?.close()
  await exchange?.close()
  await store?.close()
  await other?.close()
  await untrusted?.close()
  await stack?.close()
})

/** Device login at `issuer` into a fresh config dir, approved by `approve`. */
async function deviceLogin(issuer: string, dirName: string, approve: (p: { userCode: string; verificationUriComplete?: string | undefined }) => Promise<void> | void): Promise<string> {
  const configDir = join(stack.dataDir, dirName)
  const config = await discoverIssuer(issuer, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, { onPrompt: async (p) => { await approve(p) } })
  await createTokenStore(configDir).set(tokenStoreKey(config), tokens)
  return configDir
}

describe('a second OIDC issuer in the exchange\'s trustedIssuers', () => {
  it('device login at the other issuer, exchange, and connect(): the gateway talks to aedes next to one of our IdP', async () => {
    const otherDir = await deviceLogin(other.issuer, 'other-config', (p) => other.decide(p.userCode, true))
    const ourDir = await deviceLogin(stack.idpUrl, 'our-config', async (p) => {
      await completeDeviceLogin({ verificationUriComplete: p.verificationUriComplete ?? '', username: stack.demo.username, password: stack.demo.password })
    })

    const watcher = await connect({ issuer: stack.idpUrl, exchangeUrl, broker: BROKER, brokerUrl: mqttUrl, configDir: ourDir, mqtt: { reconnectPeriod: 0 } })
    clients.push(watcher)
    expect(watcher.options.clientId).toBe(stack.demo.clientId)
    await watcher.subscribeAsync('devices/gateway-1/#', { qos: 1 })
    const seen = new Promise<[string, string]>((resolve) => watcher.once('message', (t, p) => resolve([t, p.toString()])))

        const gateway = await connect({
      issuer: other.issuer, exchangeUrl, broker: BROKER, brokerUrl: mqttUrl, configDir: otherDir,
      mqtt: { reconnectPeriod: 0 },
    })
    clients.push(gateway)
    // mini-oidc's account: sub account-1, clientid claim gateway-1.
    expect(gateway.options.clientId).toBe('gateway-1')
    await gateway.publishAsync('devices/gateway-1/up', 'from another issuer', { qos: 1 })
    expect(await seen).toEqual(['devices/gateway-1/up', 'from another issuer'])
    // The login really went through the other issuer's device flow and token endpoint.
    expect(other.hitCount('POST /device/auth')).toBe(1)
    expect(other.hitCount('grant:device_code')).toBeGreaterThan(0)
  })

  it('the broker token of the other issuer\'s login carries its identity and the broker\'s ACL', async () => {
    const config = await discoverIssuer(other.issuer, 'mqtt-oidc-cli')
    const t = await exchangeToken({ exchangeUrl, broker: BROKER, subjectToken: await getIdToken(config, createTokenStore(join(stack.dataDir, 'other-config'))) })
    // The ACL keeps its placeholders; the broker resolves ${clientid} with the token's sub.
    expect(t).toMatchObject({ clientId: 'gateway-1', username: 'alice', acl: { pub: ['devices/${clientid}/#'], sub: ['devices/#'] } })
  })

  it('`mqtt-oidc pub --issuer <other issuer>` uses that login and publishes', async () => {
    const r = await runNode(BIN, ['pub', '--issuer', other.issuer, '--exchange', exchangeUrl, '--broker', BROKER, '--url', mqttUrl, '-t', 'devices/gateway-1/cli', '-m', 'cli', '-q', '1'], {
      cwd: stack.dataDir, env: { MQTT_OIDC_CLI_CONFIG_DIR: join(stack.dataDir, 'other-config') },
    })
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('an issuer the exchange does not trust is refused at the exchange, with no broker token', async () => {
    const dir = await deviceLogin(untrusted.issuer, 'untrusted-config', (p) => untrusted.decide(p.userCode, true))
    const err: unknown = await connect({ issuer: untrusted.issuer, exchangeUrl, broker: BROKER, brokerUrl: mqttUrl, configDir: dir }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TokenExchangeRefused)
    expect(err).toMatchObject({ code: 'ERR_TOKEN_EXCHANGE_REFUSED', status: 400, error: 'invalid_request', error_description: 'subject_token issuer is not trusted' })
  })
})
