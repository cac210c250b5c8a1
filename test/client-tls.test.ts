import { PassThrough } from 'node:stream'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBroker } from '@mqtt-oidc/broker'
import type { Broker } from '@mqtt-oidc/broker'
import {
  BrokerCertificateUntrusted,
  connect,
  connectWithToken,
  createAdminClient,
  createTokenStore,
  discoverIssuer,
  exchangeToken,
  getIdToken,
  loginWithDeviceFlow,
  tokenStoreKey,
} from '@mqtt-oidc/client'
import { runCli } from '@mqtt-oidc/cli'
import { BIN } from './support/cli-bin.js'
import { runNode, startNode } from '@mqtt-oidc/test-support/run-tsx'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { writeSelfSignedCert } from '@mqtt-oidc/test-support/self-signed-cert'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// MQTT over TLS (mqtts://) from the library and the CLI against the aedes
// broker's TLS listener, with a self-signed certificate made here: trusted
// through a CA option it works; not trusted, the connect fails with a typed
// error before any token is sent.

const CLIENT_ID = 'tls-gateway-1'
let stack: TestStack
let broker: Broker
let mqttsUrl: string
let configDir: string
let caFile: string
let otherCaFile: string
let ca: Buffer
let env: NodeJS.ProcessEnv

function selfSigned(dir: string, name: string): string {
  writeSelfSignedCert(join(dir, `${name}-key.pem`), join(dir, `${name}.pem`))
  return join(dir, `${name}.pem`)
}

const cli = (args: string[]): Promise<RunResult> => runNode(BIN, args, { cwd: stack.dataDir, env })

beforeAll(async () => {
  stack = await startTestStack()
  await stack.addAccount('tlsuser', 'tls-password-1', [CLIENT_ID])
  configDir = join(stack.dataDir, 'tls-config')
  const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, {
    onPrompt: async (p) => {
      await completeDeviceLogin({ verificationUriComplete: p.verificationUriComplete, username: 'tlsuser', password: 'tls-password-1' })
    },
  })
  await createTokenStore(configDir).set(tokenStoreKey(config), tokens)
  caFile = selfSigned(stack.dataDir, 'broker')
  otherCaFile = selfSigned(stack.dataDir, 'other')
  ca = readFileSync(caFile)
  broker = createBroker({
    brokerId: 'demo',
    exchangeUrl: stack.exchangeUrl,
    host: '127.0.0.1',
    mqttPort: 0,
    wsPort: 0,
    logLevel: 'silent',
    feedCredentialFile: await stack.feedCredentialFile('demo'),
    tls: { certPath: caFile, keyPath: join(stack.dataDir, 'broker-key.pem'), port: 0 },
  })
  const at = await broker.listen()
  mqttsUrl = at.mqttsUrl ?? ''
  env = {
    MQTT_OIDC_CLI_ISSUER: stack.idpUrl,
    MQTT_OIDC_CLI_EXCHANGE_URL: stack.exchangeUrl,
    MQTT_OIDC_CLI_CONFIG_DIR: configDir,
    MQTT_OIDC_DATA_DIR: stack.dataDir,
  }
}, 30_000)
afterAll(async () => {
  await broker?.close()
  await stack?.close()
})

/** An admin-issued client on the TLS listener that sees everything under devices/<CLIENT_ID>/. */
async function observer(clientId: string): Promise<MqttClient> {
  const creds = await createAdminClient({ dataDir: stack.dataDir }).issueCredentials('demo', { clientIds: [clientId], expiration: '15m' })
  const client = await connectAsync(mqttsUrl, { clientId, username: '', password: creds[clientId] ?? '', reconnectPeriod: 0, ca })
  await client.subscribeAsync(`devices/${CLIENT_ID}/#`, { qos: 1 })
  return client
}

const nextMessage = (client: MqttClient): Promise<[string, string]> => new Promise((resolve) => client.once('message', (t, p) => resolve([t, p.toString()])))

describe('library over mqtts:// (TLS)', () => {
  it('connect() with mqtt: { ca } logs in from the cache, exchanges, and publishes over TLS', async () => {
    expect(mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/)
    const obs = await observer('tls-observer-1')
    const message = nextMessage(obs)
    const client = await connect({
      issuer: stack.idpUrl,
      exchangeUrl: stack.exchangeUrl,
      broker: 'demo',
      brokerUrl: mqttsUrl,
      configDir,
      mqtt: { ca },
    })
    expect(client.options.protocol).toBe('mqtts')
    expect(client.options.clientId).toBe(CLIENT_ID)
    await client.publishAsync(`devices/${CLIENT_ID}/up`, 'over tls', { qos: 1 })
    expect(await message).toEqual([`devices/${CLIENT_ID}/up`, 'over tls'])
    await client.endAsync()
    await obs.endAsync()
  })

  it("connectWithToken with mqtt: { ca } connects over TLS with the token's sub as client id", async () => {
    const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
    const store = createTokenStore(configDir)
    const client = await connectWithToken({
      brokerUrl: mqttsUrl,
      getToken: async () => exchangeToken({ exchangeUrl: stack.exchangeUrl, broker: 'demo', subjectToken: await getIdToken(config, store) }),
      mqtt: { ca },
    })
    expect(client.connected).toBe(true)
    expect(client.options.clientId).toBe(CLIENT_ID)
    await client.endAsync()
  })

  it('refuses a broker whose certificate is not trusted (no CA option, or another CA) with BrokerCertificateUntrusted, and does not retry', async () => {
    for (const mqtt of [{}, { ca: readFileSync(otherCaFile) }]) {
      let calls = 0
      const err: unknown = await connectWithToken({
        brokerUrl: mqttsUrl,
        getToken: async () => {
          calls += 1
          return { token: 'never-sent', clientId: CLIENT_ID }
        },
        mqtt,
      }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BrokerCertificateUntrusted)
      expect(err).toMatchObject({ code: 'ERR_BROKER_CERTIFICATE_UNTRUSTED', reason: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
      expect((err as Error).message).toMatch(
        /^the broker's TLS certificate is not trusted \(.+\): give the CA that signed it \(CLI: --cafile <path>, library: mqtt: \{ ca \}\)$/,
      )
      expect(calls).toBe(1)
    }
  })
})

describe('mqtt-oidc pub/sub --cafile over mqtts://', () => {
  it('`pub --url mqtts://... --cafile` delivers the message', async () => {
    const obs = await observer('tls-observer-2')
    const message = nextMessage(obs)
    const r = await cli(['pub', '--broker', 'demo', '--url', mqttsUrl, '--cafile', caFile, '-t', `devices/${CLIENT_ID}/up`, '-m', 'cli over tls', '-q', '1'])
    expect(r).toEqual({ code: 0, stdout: '', stderr: `Published 12 bytes to devices/${CLIENT_ID}/up on demo as ${CLIENT_ID} (QoS 1).\n` })
    expect(await message).toEqual([`devices/${CLIENT_ID}/up`, 'cli over tls'])
    await obs.endAsync()
  })

  it('`sub --url mqtts://... --cafile -C 1 --json` prints the message that arrives over TLS', async () => {
    const sub = startNode(
      BIN,
      ['sub', '--broker', 'demo', '--url', mqttsUrl, '--cafile', caFile, '-t', `devices/${CLIENT_ID}/#`, '-q', '1', '-C', '1', '--json'],
      { cwd: stack.dataDir, env },
    )
    await sub.waitForStderr(/Subscribed to /)
    const creds = await createAdminClient({ dataDir: stack.dataDir }).issueCredentials('demo', {
      clientIds: ['tls-publisher'],
      expiration: '15m',
      acl: { pub: ['#'], sub: [] },
    })
    const pub = await connectAsync(mqttsUrl, { clientId: 'tls-publisher', username: '', password: creds['tls-publisher'] ?? '', reconnectPeriod: 0, ca })
    await pub.publishAsync(`devices/${CLIENT_ID}/down`, 'to the gateway', { qos: 1 })
    const r = await sub.done
    await pub.endAsync()
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`${JSON.stringify({ topic: `devices/${CLIENT_ID}/down`, message: 'to the gateway', qos: 1, retain: false })}\n`)
  })

  it('without --cafile the self-signed broker is refused in one line that says what to do, exit 1', async () => {
    const r = await cli(['pub', '--broker', 'demo', '--url', mqttsUrl, '-t', `devices/${CLIENT_ID}/up`, '-m', 'x'])
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "mqtt-oidc: the broker's TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate): give the CA that signed it (CLI: --cafile <path>, library: mqtt: { ca })\n",
    })
  })

  it('an unreadable or non-PEM --cafile is a usage error before any request', async () => {
    const missing = await cli(['pub', '--broker', 'demo', '--url', mqttsUrl, '--cafile', join(stack.dataDir, 'nope.pem'), '-t', 'a', '-m', 'x'])
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `mqtt-oidc: cannot read --cafile ${join(stack.dataDir, 'nope.pem')}: ENOENT\n` })
    const notPem = await cli(['sub', '--broker', 'demo', '--url', mqttsUrl, '--cafile', join(stack.dataDir, 'idp.sqlite'), '-t', 'a'])
    expect(notPem).toEqual({
      code: 1,
      stdout: '',
      stderr: `mqtt-oidc: --cafile ${join(stack.dataDir, 'idp.sqlite')} holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n`,
    })
  })

  it('`pub --help` and `sub --help` document --cafile', async () => {
    for (const command of ['pub', 'sub']) {
      const out = new PassThrough()
      let text = ''
      out.on('data', (d: Buffer) => {
        text += d.toString()
      })
      expect(await runCli([command, '--help'], { stdout: out, stderr: out, stdin: new PassThrough(), env: { configDir: '/nonexistent' } })).toBe(0)
      // Commander wraps help to the terminal width: compare with whitespace collapsed.
      expect(text.replace(/\s+/g, ' ')).toContain(
        "--cafile <path> PEM file of the CA that signed the broker's TLS certificate, for mqtts:// and wss:// (default: the system CAs)",
      )
    }
  })
})
