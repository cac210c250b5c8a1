import { join } from 'node:path'
import { connect as mqttConnect } from 'mqtt'
import type { MqttClient, Packet } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBroker } from '@mqtt-oidc/broker'
import type { Broker } from '@mqtt-oidc/broker'
import { connect, createAdminClient, createTokenStore, discoverIssuer, loginWithDeviceFlow, tokenStoreKey } from '@mqtt-oidc/client'
import { BrokerTokenRevoked } from '@mqtt-oidc/client'
import type { BrokerRefusal } from '@mqtt-oidc/client'
import { decodeJwt } from 'jose'
import { startTcpProxy } from './support/tcp-proxy.js'
import type { TcpProxy } from './support/tcp-proxy.js'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// The headless gateway story, end to end: one device login, then the library's
// connect() keeps a gateway publishing at QoS 1 across several ID token and
// broker token lifetimes (4 s and 3 s here), refresh-token rotation, and a
// broker restart. The gateway reaches the broker through a TCP proxy that
// records which side ended each connection, so the test can assert that the
// broker never had to cut the gateway off at a token's expiry.

const CLIENT_ID = 'gw-site-7'
const TOPIC = `devices/${CLIENT_ID}/telemetry`

let stack: TestStack
let configDir: string
let broker: Broker
let brokerPort: number
let proxy: TcpProxy
let observer: MqttClient | undefined

const waiters = new Set<() => void>()
/** Re-checks every pending `until` (called whenever the state they watch changes). */
const changed = (): void => {
  for (const w of [...waiters]) w()
}
/** Resolves once `check()` holds; re-evaluated on each `changed()`, no polling. */
const until = (check: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    const w = (): void => {
      if (!check()) return
      waiters.delete(w)
      resolve()
    }
    waiters.add(w)
    w()
  })

const startBroker = async (port: number): Promise<number> => {
  broker = createBroker({
    brokerId: 'demo',
    exchangeUrl: stack.exchangeUrl,
    host: '127.0.0.1',
    mqttPort: port,
    wsPort: 0,
    logLevel: 'silent',
    feedCredentialFile: await stack.feedCredentialFile('demo'),
  })
  return (await broker.listen()).mqttPort
}

beforeAll(async () => {
  stack = await startTestStack({ idTokenTtl: 4, maxLifetime: 3 })
  await stack.addAccount('gateway7', 'gateway-password-7', [CLIENT_ID])
  configDir = join(stack.dataDir, 'gateway-config')
  // `mqtt-oidc login --device` once at install, the person played by a scripted browser.
  const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, {
    onPrompt: async (p) => {
      await completeDeviceLogin({ verificationUriComplete: p.verificationUriComplete, username: 'gateway7', password: 'gateway-password-7' })
    },
  })
  await createTokenStore(configDir).set(tokenStoreKey(config), tokens)
  brokerPort = await startBroker(0)
  proxy = await startTcpProxy(brokerPort)
}, 30_000)

afterAll(async () => {
  await observer?.endAsync(true)
  await proxy?.close()
  await broker?.close()
  await stack?.close()
})

describe('connect(): a headless gateway against the IdP, exchange and broker', () => {
  it('loses no QoS 1 message and is never refused nor cut off by the broker', async () => {
    // The backend side: an admin-issued credential (ACL "#"), connected straight to the broker.
    const creds = await createAdminClient({ dataDir: stack.dataDir }).issueCredentials('demo', { clientIds: ['backend'], expiration: '15m' })
    const received = new Set<number>()
    let observerSubscribed = false
    observer = mqttConnect(`mqtt://127.0.0.1:${brokerPort}`, { clientId: 'backend', username: '', password: creds.backend ?? '', reconnectPeriod: 50 })
    observer.on('error', () => undefined)
    observer.on('connect', () =>
      observer?.subscribe(`devices/${CLIENT_ID}/#`, { qos: 1 }, () => {
        observerSubscribed = true
        changed()
      }),
    )
    observer.on('close', () => {
      observerSubscribed = false
    })
    observer.on('message', (_t, payload) => {
      received.add(Number(payload.toString()))
      changed()
    })
    await until(() => observerSubscribed)

    const connacks: number[] = []
    const refusals: BrokerRefusal[] = []
    const renewErrors: unknown[] = []
    const publishErrors: unknown[] = []
    let renewals = 0
    let reconnectPending = false
    const gateway = await connect({
      issuer: stack.idpUrl,
      exchangeUrl: stack.exchangeUrl,
      broker: 'demo',
      brokerUrl: proxy.url,
      configDir,
      mqtt: { reconnectPeriod: 100 },
      onRenewed: () => {
        renewals += 1
        reconnectPending = true
        changed()
      },
      onRenewError: (err) => renewErrors.push(err),
      onRefused: (err) => refusals.push(err),
    })
    gateway.on('packetreceive', (p: Packet) => {
      if (p.cmd === 'connack') {
        connacks.push(p.returnCode ?? 0)
        reconnectPending = false
        changed()
      }
    })
    expect(gateway.options.clientId).toBe(CLIENT_ID)

    // Publish at QoS 1 at a steady pace the whole time, whatever the connection state.
    const sent: number[] = []
    const acked = new Set<number>()
    const publisher = setInterval(() => {
      const n = sent.length
      sent.push(n)
      gateway.publishAsync(TOPIC, String(n), { qos: 1 }).then(
        () => {
          acked.add(n)
          changed()
        },
        (err: unknown) => publishErrors.push(err),
      )
    }, 40)

    try {
      await until(() => renewals >= 2) // two broker tokens (and ID tokens) replaced, live

      // Broker restart. The outage starts at the proxy, so that every message the old
      // broker acknowledged reaches the backend before it goes (aedes keeps sessions
      // in memory: what it holds dies with it, which is not the client's to fix).
      proxy.pause()
      await until(() => [...acked].every((n) => received.has(n)))
      await broker.close()
      await startBroker(brokerPort)
      await until(() => observerSubscribed)
      const beforeRestart = connacks.length
      proxy.resume()
      await until(() => connacks.length > beforeRestart && gateway.connected)

      const afterRestart = renewals
      await until(() => renewals >= afterRestart + 2 && !reconnectPending && gateway.connected)
    } finally {
      clearInterval(publisher)
    }
    await until(() => acked.size === sent.length && sent.every((n) => received.has(n)))

    expect(sent.length).toBeGreaterThan(50)
    expect(sent.filter((n) => !received.has(n))).toEqual([])
    expect(proxy.closedBy.server).toBe(0) // the broker never cut the gateway off
    expect(publishErrors).toEqual([])
    expect(refusals).toEqual([])
    expect(renewErrors).toEqual([])
    expect(connacks.filter((rc) => rc !== 0)).toEqual([])
    expect(renewals).toBeGreaterThanOrEqual(4)
    expect(connacks.length).toBeGreaterThanOrEqual(4) // after the first: the restart, and each renewal made while online
    await gateway.endAsync()
  }, 40_000)

  it('ends with BrokerTokenRevoked, not a reconnect loop, when an operator revokes the token it holds', async () => {
    let refused!: (err: BrokerRefusal) => void
    const refusal = new Promise<BrokerRefusal>((resolve) => {
      refused = resolve
    })
    const gateway = await connect({
      issuer: stack.idpUrl,
      exchangeUrl: stack.exchangeUrl,
      broker: 'demo',
      brokerUrl: proxy.url,
      configDir,
      mqtt: { reconnectPeriod: 50 },
      onRefused: (err) => refused(err),
    })
    // Forget the login, so no renewal can swap in a new token before the broker acts on the revocation.
    await createTokenStore(configDir).delete({ issuer: stack.idpUrl, clientId: 'mqtt-oidc-cli' })
    const jti = decodeJwt(String(gateway.options.password)).jti ?? ''
    let connacks = 0
    gateway.on('packetreceive', (p: Packet) => {
      if (p.cmd === 'connack') connacks += 1
    })
    await createAdminClient({ dataDir: stack.dataDir }).revoke('demo', [jti])
    const err = await refusal
    expect(err).toBeInstanceOf(BrokerTokenRevoked)
    expect(err).toMatchObject({ code: 'ERR_BROKER_TOKEN_REVOKED', returnCode: 4, jti })
    expect(gateway.disconnecting || gateway.disconnected).toBe(true)
    expect(connacks).toBe(1) // one refused reconnect, then it stopped
  }, 20_000)
})
