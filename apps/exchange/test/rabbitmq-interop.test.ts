import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose'
import type { MqttClient } from 'mqtt'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { startExchange } from './support/harness.js'
import type { Running } from './support/harness.js'
import { now, startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'
import { closed, connectRaw, nextMessage, spawnTool, subackCodes } from '@mqtt-oidc/test-support/mqtt'
import { startRabbitmq } from '@mqtt-oidc/test-support/start-rabbitmq'
import { until } from '@mqtt-oidc/test-support/until'
import type { Rabbitmq } from '@mqtt-oidc/test-support/start-rabbitmq'

// RabbitMQ's OAuth 2 backend: `aud` must hold its resource_server_id; permissions come from `scope`.
// The broker below is created with profile rabbitmq, so the exchange signs RS256 with aud = its id and a scope claim.
const RESOURCE_SERVER = 'rabbitmq'
const ACL = { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] }

let idp: TestIdp
let ex: Running
let rabbit: Rabbitmq

/** A token from POST /token (an ID token whose `clientid` claim is `clientId`, exchanged for the rabbitmq broker). */
async function exchanged(clientId: string, broker = RESOURCE_SERVER): Promise<string> {
  const res = await ex.exchangeToken({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: await idp.idToken({ clientid: clientId }),
    subject_token_type: TOKEN_TYPE.idToken,
    audience: broker,
  })
  const body = (await res.json()) as { access_token?: string }
  if (res.status !== 200 || !body.access_token) throw new Error(`token exchange failed: ${res.status} ${JSON.stringify(body)}`)
  return body.access_token
}

/** Admin-issued credential (POST /admin/brokers/rabbitmq/credentials) for one client id. */
async function issued(clientId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await ex.api('POST', `/admin/brokers/${RESOURCE_SERVER}/credentials`, { clientIds: [clientId], ...body })
  const tokens = (await res.json()) as Record<string, string>
  if (res.status !== 200 || !tokens[clientId]) throw new Error(`issue failed: ${res.status} ${JSON.stringify(tokens)}`)
  return tokens[clientId]
}

/** The same claims as a real token, signed by another RS256 key under the exchange key's kid. */
async function forged(clientId: string): Promise<string> {
  const real = await exchanged(clientId)
  const { privateKey } = await generateKeyPair('RS256')
  return new SignJWT(decodeJwt(real)).setProtectedHeader(decodeProtectedHeader(real) as { alg: string }).sign(privateKey)
}

const pub = (clientId: string, password: string, topic: string) =>
  spawnTool(
    'mosquitto_pub',
    ['-h', '127.0.0.1', '-p', String(rabbit.mqttPort), '-V', 'mqttv311', '-i', clientId, '-u', clientId, '-P', password, '-q', '1', '-t', topic, '-m', 'hello'],
    20_000,
  ).exited

beforeAll(async () => {
  idp = await startTestIdp()
  ex = await startExchange(idp)
  for (const id of [RESOURCE_SERVER, 'other-broker']) {
    const res = await ex.api('POST', '/admin/brokers', { id, acl: ACL, policy: { profile: 'rabbitmq' } })
    if (res.status !== 201) throw new Error(`create broker ${id}: ${res.status} ${await res.text()}`)
  }
  await exchanged('warm-up') // the RS256 key exists (and is in the JWKS) before RabbitMQ first fetches it
  rabbit = await startRabbitmq({ jwksUrl: `${ex.url}/.well-known/jwks.json`, resourceServerId: RESOURCE_SERVER })
}, 90_000)
afterAll(async () => {
  await rabbit?.stop()
  await ex?.close()
  await idp?.close()
}, 30_000)

describe('RabbitMQ 3.10 (rabbitmq_mqtt + rabbitmq_auth_backend_oauth2) with exchange-issued tokens via JWKS', () => {
  it('the exchange signs rabbitmq-profile tokens RS256 with aud = resource_server_id and a scope claim', async () => {
    const token = await exchanged('r0')
    expect(decodeProtectedHeader(token).alg).toBe('RS256')
    expect(decodeJwt(token)).toMatchObject({ aud: RESOURCE_SERVER, sub: 'r0', scope: expect.stringContaining('rabbitmq.write:*/*/devices.r0.*') })
  })

  it('an exchanged token connects and subscribes, an admin-issued one publishes, inside the ACL (mosquitto_sub/mosquitto_pub)', async () => {
    // stdbuf: mosquitto_sub's debug lines (-d, which show the SUBACK) are block-buffered on a pipe
    const sub = spawnTool(
      'stdbuf',
      [
        '-oL',
        'mosquitto_sub',
        '-h',
        '127.0.0.1',
        '-p',
        String(rabbit.mqttPort),
        '-V',
        'mqttv311',
        '-i',
        'r1',
        '-u',
        'r1',
        '-P',
        await exchanged('r1'),
        '-q',
        '1',
        '-t',
        'devices/r1/#',
        '-C',
        '1',
        '-v',
        '-d',
      ],
      20_000,
    )
    await sub.printed('received SUBACK')
    // another client id (the same one would take the subscriber's session over), allowed to publish to r1's topics
    const run = await pub('r1-pub', await issued('r1-pub', { acl: { pub: ['devices/r1/#'], sub: [] } }), 'devices/r1/temp')
    expect(run.code, run.stderr).toBe(0)
    await sub.printed('devices/r1/temp hello')
    expect((await sub.exited).code).toBe(0)
  })

  it('closes the connection of a publish outside the ACL (RabbitMQ topic authorization from the scopes)', async () => {
    const run = await pub('r2', await exchanged('r2'), 'devices/someone-else/temp')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/connection was lost/i)
  })

  it.each([
    ['a token the exchange issued for another broker (aud)', async () => exchanged('x1', 'other-broker')],
    // issued valid from two hours ago for one hour: exp is an hour past
    ['an expired token the exchange issued', async () => issued('x2', { notBefore: now() - 7200, expiration: '1h' })],
    ["a forged token (another key, the exchange key's kid)", async () => forged('x3')],
    ['garbage', async () => 'not-a-token'],
  ])('refuses %s at CONNECT', async (_name, make) => {
    const run = await pub('x', await make(), 'devices/x/t')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/not authori[sz]ed|bad user name or password|Connection Refused/i)
  })
})

// RabbitMQ's OAuth 2 backend takes the token as the identity and never looks
// at the MQTT client id: a token works under any client id. (3.10 expands no
// variables in scopes; 4.1.1+ expands token claims, never the client id.)
describe('RabbitMQ does not bind a token to a client id; what the rabbitmq profile does about it', () => {
  const url = () => `mqtt://127.0.0.1:${rabbit.mqttPort}`
  /** Connects with `token` as `clientId`; every message the connection gets, from the first packet on, lands in `messages`. */
  const as = async (clientId: string, token: string, options: { clean?: boolean } = {}) => {
    const messages: string[] = []
    const connection = await connectRaw(url(), { clientId, username: clientId, password: token, clean: options.clean ?? true }, (client) => {
      client.on('message', (topic, payload) => messages.push(`${topic} ${payload.toString()}`))
    })
    return { ...connection, messages }
  }

  /** What a QoS 1 SUBSCRIBE gets: its SUBACK codes, or the connection closed. */
  const subscribeOutcome = (client: MqttClient, filter: string): Promise<string> =>
    Promise.race([
      closed(client).then(() => 'connection closed'),
      subackCodes(client, { [filter]: { qos: 1 } }).then((codes) => `SUBACK ${JSON.stringify(codes)}`),
    ])

  it("a token connects under another client id and publishes into its owner's topic tree", async () => {
    const owner = await as('r3', await exchanged('r3'))
    expect(owner.returnCode).toBe(0)
    expect(await subackCodes(owner.client, { 'devices/r3/#': { qos: 1 } })).toEqual([1])
    const impostor = await as('impostor-1', await exchanged('r3'))
    expect(impostor.returnCode).toBe(0)
    const seen = nextMessage(owner.client, 'devices/r3/cmd')
    await impostor.client.publishAsync('devices/r3/cmd', 'spoofed', { qos: 1 })
    expect(await seen).toMatchObject({ payload: 'spoofed' })
    await Promise.all([owner.client.endAsync(), impostor.client.endAsync()])
  })

  // The mitigation (rabbitmqScopes): a token's scopes name the subscription queues of its own
  // client id only, not mqtt-subscription-*. Both tests below failed with the wildcard: the SUBACK
  // granted QoS 1, and the impostor received the other client's queued message.
  it('under another client id a token cannot subscribe: RabbitMQ refuses the queue and closes the connection', async () => {
    const impostor = await as('impostor-2', await exchanged('r4'))
    expect(impostor.returnCode).toBe(0)
    expect(await subscribeOutcome(impostor.client, 'devices/r4/#')).toBe('connection closed')
    // RabbitMQ writes its log after it has closed the connection: wait for the line, not a race.
    await until(async () => rabbit.output().includes("access to queue 'mqtt-subscription-impostor-2qos1' in vhost '/' refused for user 'r4'"))
  })

  it("another client's persistent session stays its own: an impostor under its client id gets none of its queued messages", async () => {
    const owner = await as('r5', await exchanged('r5'), { clean: false })
    expect(await subackCodes(owner.client, { 'devices/r5/#': { qos: 1 } })).toEqual([1])
    await owner.client.endAsync()
    const run = await pub('r5-pub', await issued('r5-pub', { acl: { pub: ['devices/r5/#'], sub: [] } }), 'devices/r5/queued')
    expect(run.code, run.stderr).toBe(0)

    // r6's token under r5's client id, subscribing only to what r6 may read. RabbitMQ either
    // refuses to resume r5's session at CONNECT (CONNACK 3, "cannot recover a session, user is
    // missing permissions") or, when it has not yet registered that session, closes the
    // connection at the SUBSCRIBE: either way for want of access to r5's queue.
    const impostor = await as('r5', await exchanged('r6'), { clean: false })
    if (impostor.returnCode === 0) {
      expect(await subscribeOutcome(impostor.client, 'devices/r6/#')).toBe('connection closed')
    } else {
      expect(impostor.returnCode).toBe(3)
    }
    await until(async () => rabbit.output().includes("access to queue 'mqtt-subscription-r5qos1' in vhost '/' refused for user 'r6'"))
    expect(impostor.messages).toEqual([])

    // r5 itself resumes its session and gets what was queued for it.
    const back = await as('r5', await exchanged('r5'), { clean: false })
    expect(back.returnCode).toBe(0)
    expect(await subackCodes(back.client, { 'devices/r5/#': { qos: 1 } })).toEqual([1])
    await until(async () => back.messages.length > 0)
    expect(back.messages).toEqual(['devices/r5/queued hello'])
    await back.client.endAsync()
  })

  it('has no QoS 2: a QoS 2 subscription is granted QoS 1, and a QoS 2 PUBLISH gets a PUBACK where MQTT says PUBREC', async () => {
    const client = await as('r7', await exchanged('r7'))
    expect(await subackCodes(client.client, { 'devices/r7/#': { qos: 2 } })).toEqual([1])
    await client.client.endAsync()
    const run = await spawnTool(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(rabbit.mqttPort),
        '-V',
        'mqttv311',
        '-i',
        'r8',
        '-u',
        'r8',
        '-P',
        await exchanged('r8'),
        '-q',
        '2',
        '-t',
        'devices/r8/x',
        '-m',
        'hello',
        '-d',
      ],
      20_000,
    ).exited
    expect(run.stdout).toContain('received PUBACK (Mid: 1, RC:0)')
    expect(run.stdout).not.toContain('PUBREC')
    expect([run.code, run.stderr]).toEqual([2, 'Error: A network protocol error occurred when communicating with the broker.\n'])
  })
})
