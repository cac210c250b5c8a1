import { decodeJwt } from 'jose'
import { connectAsync, type MqttClient } from 'mqtt'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminClient, discoverIssuer, exchangeToken, loginWithDeviceFlow } from '@mqtt-oidc/client'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createExchange, ensureBroker } from '@mqtt-oidc/exchange'
import { BIN } from './support/cli-bin.js'
import { runNode } from '@mqtt-oidc/test-support/run-tsx'
import { completeDeviceLogin, ScriptedLoginError } from '@mqtt-oidc/test-support/idp-user-agent'
import { runTool } from './support/run-tool.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// The whole path on embedded defaults, in-process on 127.0.0.1: device flow
// through the IdP's real pages, RFC 8693 exchange, mqtt.js and mosquitto
// clients against the aedes broker, admin issuance and revocation through the
// real CLI.

let stack: TestStack
let idToken: string

const cli = (args: string[]) => runNode(BIN, args, { cwd: stack.dataDir, env: { MQTT_OIDC_DATA_DIR: stack.dataDir } })

/** CONNACK return code of one mqtt.js CONNECT (MQTT 3.1.1). */
async function connackOf(options: { clientId: string; password: string; url?: string }): Promise<number> {
  try {
    const client = await connectAsync(options.url ?? stack.mqttUrl, { clientId: options.clientId, username: options.clientId, password: options.password, reconnectPeriod: 0, protocolVersion: 4 })
    await client.endAsync()
    return 0
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'number') return code
    throw err
  }
}

async function login(username: string, password: string, idpUrl = stack.idpUrl): Promise<string> {
  const config = await discoverIssuer(idpUrl, 'mqtt-oidc-cli')
  const tokens = await loginWithDeviceFlow(config, {
    onPrompt: async ({ verificationUriComplete }) => { await completeDeviceLogin({ verificationUriComplete, username, password }) },
  })
  if (!tokens.idToken) throw new Error('no ID token')
  return tokens.idToken
}

async function issue(args: string[]): Promise<Record<string, string>> {
  const r = await cli(['broker', 'issue', 'demo', ...args])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as Record<string, string>
}

beforeAll(async () => {
  stack = await startTestStack()
  idToken = await login(stack.demo.username, stack.demo.password)
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('device flow -> token exchange -> MQTT', () => {
  it('gives an ID token carrying clientid and username, exchanged for a broker JWT whose sub is that clientid', async () => {
    expect(decodeJwt(idToken)).toMatchObject({ clientid: stack.demo.clientId, username: 'demo', aud: 'mqtt-oidc-cli', iss: stack.idpUrl })
    const broker = await exchangeToken({ exchangeUrl: stack.exchangeUrl, broker: 'demo', subjectToken: idToken })
    const claims = decodeJwt(broker.token)
    expect(claims).toMatchObject({
      iss: stack.exchangeUrl, aud: 'demo', sub: stack.demo.clientId, username: 'demo',
      acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] },
    })
    expect(claims.exp! - claims.iat!).toBe(3600)
    expect(claims.jti).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
  })

  it('round-trips a message with mqtt.js inside the ACL and delivers nothing outside it', async () => {
    const { token, clientId } = await exchangeToken({ exchangeUrl: stack.exchangeUrl, broker: 'demo', subjectToken: idToken })
    const [observer] = Object.entries(await issue(['--client-id', 'observer-rt', '--expiration', '15m']))
    const watcher = await connectAsync(stack.mqttUrl, { clientId: 'observer-rt', username: 'observer-rt', password: observer![1], reconnectPeriod: 0 })
    await watcher.subscribeAsync('#', { qos: 1 })
    const seen: string[] = []
    watcher.on('message', (topic) => seen.push(topic))

    const device = await connectAsync(stack.mqttUrl, { clientId: '', username: clientId, password: token, reconnectPeriod: 0 })
    expect(device.options.clientId === '' || device.options.clientId === clientId).toBe(true)
    await device.subscribeAsync(`devices/${clientId}/#`, { qos: 1 })
    const echoed = new Promise<string>((resolve) => device.once('message', (_t, payload) => resolve(payload.toString())))
    await device.publishAsync(`devices/${clientId}/hello`, 'hi', { qos: 1 })
    expect(await echoed).toBe('hi')

    const refused = await device.subscribeAsync('devices/someone-else/#', { qos: 1 }).then(() => undefined, (err: unknown) => err)
    expect((refused as { packet?: { granted?: unknown } }).packet?.granted).toEqual([128])
    await device.endAsync()
    await watcher.endAsync()
    expect(seen).toEqual([`devices/${clientId}/hello`])
  })
})

describe('admin credentials with clients nobody here wrote (mosquitto)', () => {
  it('issues 5 Cloudflare-style pairs whose tokens carry 48h expiry and the all-topics ACL', async () => {
    const pairs = await issue(['--number', '5', '--expiration', '48h'])
    expect(Object.keys(pairs)).toHaveLength(5)
    for (const [clientId, token] of Object.entries(pairs)) {
      expect(clientId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
      const claims = decodeJwt(token)
      expect(claims).toMatchObject({ sub: clientId, aud: 'demo', topicAcl: '#', acl: { pub: ['#'], sub: ['#'] } })
      expect(claims.exp! - claims.iat!).toBe(172800)
    }
  })

  it('refuses --number 101 with one clear line and issues nothing', async () => {
    const r = await cli(['broker', 'issue', 'demo', '--number', '101'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^mqtt-oidc: .*1.*100.*\n$/)
  })

  it('round-trips with mosquitto_sub and mosquitto_pub; a revoked jti is cut off and refused, then let in again after unrevoke', async () => {
    const [[subId, subToken], [pubId, pubToken]] = Object.entries(await issue(['--number', '2', '--expiration', '1h'])) as [[string, string], [string, string]]
    const port = String(stack.mqttPort)
    const sub = runTool('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-i', subId, '-u', subId, '-P', subToken, '-t', 'fleet/#', '-C', '1', '-v', '-d'])
    await sub.printed('received SUBACK')
    const pub = await runTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-i', pubId, '-u', pubId, '-P', pubToken, '-t', 'fleet/7/temp', '-m', '21.5', '-q', '1']).exited
    expect(pub).toMatchObject({ code: 0, stderr: '' })
    expect((await sub.exited).stdout).toContain('fleet/7/temp 21.5')

    // A live session using the token: the broker closes it when the revocation reaches it.
    const jti = decodeJwt(pubToken).jti!
    const live = await connectAsync(stack.mqttUrl, { clientId: pubId, username: pubId, password: pubToken, reconnectPeriod: 0 })
    const cutOff = new Promise<void>((resolve) => live.once('close', () => resolve()))
    const revoke = await cli(['broker', 'revoke', 'demo', '--jti', jti])
    expect(revoke.code).toBe(0)
    await cutOff
    await live.endAsync(true)

    const refused = await runTool('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-i', pubId, '-u', pubId, '-P', pubToken, '-t', 'fleet/7/temp', '-m', 'x']).exited
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/Connection Refused: bad user name or password/)
    const listed = await cli(['broker', 'show-revocations', 'demo'])
    expect((JSON.parse(listed.stdout) as Array<{ jti: string }>).map((r) => r.jti)).toContain(jti)

    expect((await cli(['broker', 'unrevoke', 'demo', '--jti', jti])).code).toBe(0)
    // The unrevoke reaches the broker through its feed; wait for the broker to accept again.
    let code = await connackOf({ clientId: pubId, password: pubToken })
    for (let i = 0; code !== 0 && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      code = await connackOf({ clientId: pubId, password: pubToken })
    }
    expect(code).toBe(0)
  })
})

describe('one account per MQTT client id', () => {
  it('refuses an admin credential for the demo account\'s client id unless --allow-owned-client-id says so', async () => {
    const refused = await cli(['broker', 'issue', 'demo', '--client-id', stack.demo.clientId])
    expect(refused).toMatchObject({ code: 1, stdout: '' })
    expect(refused.stderr).toContain(`client ids "${stack.demo.clientId}" belong to accounts or subjects`)
    expect(Object.keys(await issue(['--client-id', stack.demo.clientId, '--allow-owned-client-id', '--expiration', '1m']))).toEqual([stack.demo.clientId])
  })

  it('refuses a second account the demo account\'s client id, so it never gets demo\'s ACL or session', async () => {
    const added = await runNode(BIN, ['users', 'add', 'mallory', '--client-id', stack.demo.clientId], {
      cwd: stack.dataDir, env: { MQTT_OIDC_DATA_DIR: stack.dataDir }, input: 'mallory-password\n',
    })
    expect(added.code).toBe(1)
    expect(added.stderr).toContain(`client id "${stack.demo.clientId}" belongs to account "demo"`)
  })
})

describe('refusals', () => {
  it('refuses a wrong password at login without saying whether the account exists', async () => {
    const alertFor = async (username: string): Promise<string | undefined> => {
      const config = await discoverIssuer(stack.idpUrl, 'mqtt-oidc-cli')
      const controller = new AbortController()
      let alert: string | undefined
      const attempt = loginWithDeviceFlow(config, {
        signal: controller.signal,
        onPrompt: async ({ verificationUriComplete }) => {
          const err = await completeDeviceLogin({ verificationUriComplete, username, password: 'wrong-password' }).then(() => undefined, (e: unknown) => e)
          expect(err).toBeInstanceOf(ScriptedLoginError)
          alert = (err as ScriptedLoginError).page.alert
          controller.abort(new Error('attempt over'))
        },
      })
      await expect(attempt).rejects.toThrow('attempt over')
      return alert
    }
    expect(await alertFor('demo')).toBe('Incorrect username or password.')
    expect(await alertFor('nobody')).toBe('Incorrect username or password.')
  })

  it('refuses to exchange an ID token issued to another client (aud)', async () => {
    const store = createSqliteStore(join(stack.dataDir, 'other-exchange.sqlite'))
    await ensureBroker(store, { id: 'demo' })
    const other = createExchange({ store, idp: { issuer: stack.idpUrl, clientIds: ['some-other-app'] }, logLevel: 'silent' })
    const { url } = await other.listen()
    try {
      const res = await fetch(`${url}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: idToken, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', audience: 'demo' }),
      })
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/aud/) })
    } finally {
      await other.close()
      await store.close()
    }
  })

  it('refuses an expired ID token', async () => {
    const shortLived = await startTestStack({ idTokenTtl: 1 })
    try {
      const config = await discoverIssuer(shortLived.idpUrl, 'mqtt-oidc-cli')
      const tokens = await loginWithDeviceFlow(config, {
        onPrompt: async ({ verificationUriComplete }) => { await completeDeviceLogin({ verificationUriComplete, username: 'demo', password: shortLived.demo.password }) },
      })
      const exp = decodeJwt(tokens.idToken!).exp!
      // Wait until the token has expired by the exchange's clock (plus its leeway).
      while (Math.floor(Date.now() / 1000) <= exp + 5) await new Promise((resolve) => setTimeout(resolve, 250))
      const res = await fetch(`${shortLived.exchangeUrl}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: tokens.idToken!, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', audience: 'demo' }),
      })
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/expired/) })
    } finally {
      await shortLived.close()
    }
  }, 30_000)

  it('refuses a broker token at another broker (CONNACK 5) and a client id other than sub (CONNACK 5)', async () => {
    const admin = createAdminClient({ dataDir: stack.dataDir })
    await admin.createBroker('other')
    const other = await stack.startBroker('other')
    try {
      const [[clientId, token]] = Object.entries(await issue(['--number', '1'])) as [[string, string]]
      expect(await connackOf({ clientId, password: token, url: other.mqttUrl })).toBe(5)
      expect(await connackOf({ clientId: 'someone-else', password: token })).toBe(5)
      expect(await connackOf({ clientId, password: token })).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('refuses a garbage password with CONNACK 4', async () => {
    expect(await connackOf({ clientId: 'x', password: 'not-a-jwt' })).toBe(4)
  })
})

export type { MqttClient }
