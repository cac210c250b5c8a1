import { PassThrough } from 'node:stream'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBroker } from '@mqtt-oidc/broker'
import type { Broker } from '@mqtt-oidc/broker'
import { createAdminClient, createTokenStore, discoverIssuer, loginWithDeviceFlow, tokenStoreKey } from '@mqtt-oidc/client'
import { runCli } from '@mqtt-oidc/cli'
import { BIN } from './support/cli-bin.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import type { RunResult } from '@mqtt-oidc/test-support/run-tsx'
import { completeDeviceLogin } from '@mqtt-oidc/test-support/idp-user-agent'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// `mqtt-oidc pub/sub` over MQTT over WebSocket (ws://.../mqtt) and with -V 5,
// against the real stack; the embedded aedes broker speaks MQTT 3.1.1 only, so
// -V 5 must end in one clear line, not a hang or a reconnect loop.

const CLIENT_ID = 'ws-gateway-1'
let stack: TestStack
let broker: Broker
let wsUrl: string
let mqttUrl: string
let env: NodeJS.ProcessEnv

const cli = (args: string[], input?: string): Promise<RunResult> =>
  runNode(BIN, args, { cwd: stack.dataDir, env, ...(input === undefined ? {} : { input }) })

beforeAll(async () => {
  stack = await startTestStack()
  await stack.addAccount('wsuser', 'ws-password-1', [CLIENT_ID])
  const configDir = join(stack.dataDir, 'ws-config')
  const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, {
    onPrompt: async (p) => { await completeDeviceLogin({ verificationUriComplete: p.verificationUriComplete, username: 'wsuser', password: 'ws-password-1' }) },
  })
  await createTokenStore(configDir).set(tokenStoreKey(config), tokens)
  broker = createBroker({
    brokerId: 'demo', exchangeUrl: stack.exchangeUrl, host: '127.0.0.1', mqttPort: 0, wsPort: 0, logLevel: 'silent',
    feedCredentialFile: await stack.feedCredentialFile('demo'),
  })
  ;({ wsUrl, mqttUrl } = await broker.listen())
  env = { MQTT_OIDC_CLI_ISSUER: stack.idpUrl, MQTT_OIDC_CLI_EXCHANGE_URL: stack.exchangeUrl, MQTT_OIDC_CLI_CONFIG_DIR: configDir, MQTT_OIDC_DATA_DIR: stack.dataDir }
}, 30_000)
afterAll(async () => {
  await broker?.close()
  await stack?.close()
})

async function observer(): Promise<MqttClient> {
  const creds = await createAdminClient({ dataDir: stack.dataDir }).issueCredentials('demo', { clientIds: ['ws-observer'], expiration: '15m' })
  const client = await connectAsync(mqttUrl, { clientId: 'ws-observer', username: '', password: creds['ws-observer'] ?? '', reconnectPeriod: 0 })
  await client.subscribeAsync(`devices/${CLIENT_ID}/#`, { qos: 1 })
  return client
}

describe('mqtt-oidc pub over WebSocket and with -V 5', () => {
  it('`pub --url ws://.../mqtt` delivers the message (MQTT over WebSocket)', async () => {
    expect(wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/)
    const obs = await observer()
    const message = new Promise<[string, string]>((resolve) => obs.once('message', (t, p) => resolve([t, p.toString()])))
    const r = await cli(['pub', '--broker', 'demo', '--url', wsUrl, '-t', `devices/${CLIENT_ID}/up`, '-m', 'over websocket', '-q', '1'])
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' })
    expect(await message).toEqual([`devices/${CLIENT_ID}/up`, 'over websocket'])
    await obs.endAsync()
  })

  it('`pub -V 5` against aedes (MQTT 3.1.1 only) fails with one line saying so, exit 1', async () => {
    const r = await cli(['pub', '--broker', 'demo', '--url', mqttUrl, '-V', '5', '-t', `devices/${CLIENT_ID}/up`, '-m', 'v5'])
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'mqtt-oidc: the broker refused the MQTT protocol version (CONNACK 1: unacceptable protocol version): it may not speak MQTT 5 (aedes speaks 3.1.1 only); connect with MQTT 3.1.1 (CLI: -V 3.1.1)\n',
    })
  })

  it('`pub --help` and `sub --help` document -V, WebSocket URLs and the exit codes', async () => {
    for (const command of ['pub', 'sub']) {
      const out = new PassThrough()
      let text = ''
      out.on('data', (d: Buffer) => { text += d.toString() })
      const code = await runCli([command, '--help'], { stdout: out, stderr: out, stdin: new PassThrough(), env: { configDir: '/nonexistent' } })
      expect(code).toBe(0)
      expect(text).toMatch(/-V, --mqtt-version <version>\s+MQTT protocol version: 3\.1\.1 or 5/)
      expect(text).toContain('ws://host:port/mqtt')
      expect(text).toContain('Exit codes: 0 ok; 1 usage error, refusal (exchange, broker, ACL) or failure; 2 login required')
      if (command === 'sub') expect(text).toMatch(/-c, --keep-session\s+clean session off/)
    }
  })
})
