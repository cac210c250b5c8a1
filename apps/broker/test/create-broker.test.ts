import { Writable } from 'node:stream'
import type { IClientOptions } from 'mqtt'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBroker } from '../src/index.js'
import type { Broker, BrokerAddresses } from '../src/index.js'
import { startFakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import type { FakeExchange } from '@mqtt-oidc/test-support/fake-exchange'
import { createTokenKit, nowSeconds } from '@mqtt-oidc/test-support/token-kit'
import type { TokenKit } from '@mqtt-oidc/test-support/token-kit'
import { closed, connackOf, connected, nextMessage, spawnTool, subackCodes } from '@mqtt-oidc/test-support/mqtt'

const BROKER = 'demo'
const ALL = { pub: ['#'], sub: ['#'] }

let exchange: FakeExchange
let kit: TokenKit
let broker: Broker
let at: BrokerAddresses
const logLines: string[] = []
const issued: string[] = []

/** Signs a token for this broker and remembers it (to prove no log line ever contains one). */
async function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const t = await kit.sign(claims, header)
  issued.push(t)
  return t
}

/**
 * CONNECT options for client `sub`: client id and username = sub (MQTT 3.1.1
 * clients such as mqtt.js and mosquitto send a password only with a username).
 */
async function as(sub: string, claims: Record<string, unknown> = {}, connect: IClientOptions = {}): Promise<IClientOptions> {
  return { clientId: sub, username: sub, password: await token({ sub, ...claims }), ...connect }
}

beforeAll(async () => {
  exchange = await startFakeExchange({ broker: BROKER })
  kit = await createTokenKit({ issuer: exchange.url, audience: BROKER })
  exchange.jwks = { keys: [kit.publicJwk] }
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) })
  broker = createBroker({ brokerId: BROKER, exchangeUrl: exchange.url, mqttPort: 0, wsPort: 0, logger: pino({ level: 'debug' }, sink) })
  at = await broker.listen()
})

afterAll(async () => {
  await broker?.close()
  await exchange?.close()
  expect(logLines.length).toBeGreaterThan(0)
  for (const t of issued) {
    const signature = t.split('.')[2] ?? t
    expect(logLines.filter((line) => line.includes(signature))).toEqual([])
  }
})

describe('createBroker: listen()', () => {
  it('reports its MQTT and WebSocket addresses', () => {
    expect(at.mqttUrl).toBe(`mqtt://127.0.0.1:${at.mqttPort}`)
    expect(at.wsUrl).toBe(`ws://127.0.0.1:${at.wsPort}/mqtt`)
  })

  it('loads the revocation snapshot before opening the MQTT listeners', async () => {
    const ex = await startFakeExchange({ broker: 'held' })
    ex.revoke('pre-revoked')
    ex.snapshotFailure = 503
    const held = createBroker({ brokerId: 'held', exchangeUrl: ex.url, mqttPort: 0, wsPort: 0, logger: pino({ level: 'silent' }) })
    try {
      let listening = false
      const listen = held.listen().then((a) => ((listening = true), a))
      await ex.nextFeedRequest((r) => r.path === '/brokers/held/revocations')
      expect(listening).toBe(false)
      ex.snapshotFailure = undefined
      await listen
      expect(held.follower?.has('pre-revoked')).toBe(true)
    } finally {
      await held.close()
      await ex.close()
    }
  })
})

describe('MQTT CONNECT with a broker token as password', () => {
  it('accepts a valid token (CONNACK 0) and round-trips a message inside the ACL', async () => {
    const sub = await connected(at.mqttUrl, await as('c1'))
    const pub = await connected(at.mqttUrl, await as('c2', { acl: ALL }))
    expect(await subackCodes(sub, { 'devices/c1/#': { qos: 1 } })).toEqual([1])
    const got = nextMessage(sub)
    await pub.publishAsync('devices/c1/hello', 'hi', { qos: 1 })
    expect(await got).toEqual({ topic: 'devices/c1/hello', payload: 'hi', retain: false })
    await Promise.all([sub.endAsync(), pub.endAsync()])
  })

  it('accepts the same over WebSocket at /mqtt', async () => {
    const client = await connected(at.wsUrl, await as('ws1'))
    expect(await subackCodes(client, { 'devices/ws1/#': { qos: 0 } })).toEqual([0])
    const got = nextMessage(client)
    await client.publishAsync('devices/ws1/x', 'over ws')
    expect((await got).payload).toBe('over ws')
    await client.endAsync()
  })

  it('gives a CONNECT with an empty client id the token sub as its client id', async () => {
    const first = await connected(at.mqttUrl, await as('c5'))
    const firstClosed = closed(first)
    // same effective id: MQTT session takeover closes the first connection [MQTT-3.1.4-2]
    const second = await connected(at.mqttUrl, await as('c5', {}, { clientId: '' }))
    await firstClosed
    expect(await subackCodes(second, { 'devices/c5/#': { qos: 0 } })).toEqual([0])
    await second.endAsync()
  })

  it('accepts a username equal to the username claim or sub', async () => {
    const t = await token({ sub: 'u1', username: 'alice' })
    expect(await connackOf(at.mqttUrl, { clientId: 'u1', username: 'alice', password: t })).toBe(0)
    expect(await connackOf(at.mqttUrl, { clientId: 'u1', username: 'u1', password: t })).toBe(0)
  })

  it.each([
    ['a client id that is not sub', { clientId: 'someone-else' }, {}, 5],
    ['a username that is neither the username claim nor sub', { username: 'mallory' }, { username: 'alice' }, 5],
    ['a token for another broker (aud)', {}, { aud: 'other-broker' }, 5],
    ['an expired token', {}, { exp: nowSeconds() - 60 }, 4],
    ['a token from another issuer', {}, { iss: 'https://evil.example' }, 4],
    ['a token with a malformed acl', {}, { acl: { pub: '#' } }, 4],
  ])('refuses %s', async (_name, connect, claims, code) => {
    expect(await connackOf(at.mqttUrl, await as('c1', claims, connect))).toBe(code)
  })

  it('refuses a garbage password and a missing password with CONNACK 4', async () => {
    expect(await connackOf(at.mqttUrl, { clientId: 'c1', username: 'c1', password: 'hunter2' })).toBe(4)
    expect(await connackOf(at.mqttUrl, { clientId: 'c1', username: 'c1' })).toBe(4)
    expect(await connackOf(at.mqttUrl, { clientId: 'c1' })).toBe(4)
  })

  it('refuses a token with the wrong typ with CONNACK 4', async () => {
    expect(await connackOf(at.mqttUrl, { clientId: 'c1', username: 'c1', password: await token({ sub: 'c1' }, { typ: 'JWT' }) })).toBe(4)
  })
})

describe('ACL on PUBLISH and SUBSCRIBE', () => {
  it('does not deliver a publish outside the ACL (and drops the publisher)', async () => {
    const watcher = await connected(at.mqttUrl, await as('watcher', { acl: ALL }))
    expect(await subackCodes(watcher, { 'devices/#': { qos: 1 } })).toEqual([1])
    const intruder = await connected(at.mqttUrl, await as('c1'))
    const dropped = closed(intruder)
    const first = nextMessage(watcher)
    intruder.publish('devices/c2/cmd', 'not yours', { qos: 1 })
    await dropped
    const marker = await connected(at.mqttUrl, await as('marker', { acl: ALL }))
    await marker.publishAsync('devices/marker', 'after', { qos: 1 })
    expect(await first).toEqual({ topic: 'devices/marker', payload: 'after', retain: false })
    await Promise.all([watcher.endAsync(), marker.endAsync()])
  })

  it('publishes a will inside the ACL and never one outside it', async () => {
    const watcher = await connected(at.mqttUrl, await as('will-watcher', { acl: ALL }))
    expect(await subackCodes(watcher, { 'devices/#': { qos: 1 } })).toEqual([1])
    const first = nextMessage(watcher)
    const outside = await connected(
      at.mqttUrl,
      await as('w1', {}, { will: { topic: 'devices/w2/status', payload: Buffer.from('forged'), qos: 1, retain: false } }),
    )
    const outsideGone = closed(outside)
    outside.stream.destroy() // no DISCONNECT: the broker must consider the will
    await outsideGone
    const inside = await connected(
      at.mqttUrl,
      await as('w3', {}, { will: { topic: 'devices/w3/status', payload: Buffer.from('offline'), qos: 1, retain: false } }),
    )
    inside.stream.destroy()
    expect(await first).toEqual({ topic: 'devices/w3/status', payload: 'offline', retain: false })
    await watcher.endAsync()
  })

  it('answers each filter of one SUBSCRIBE with its own SUBACK code', async () => {
    const client = await connected(at.mqttUrl, await as('c1'))
    expect(
      await subackCodes(client, {
        'devices/c1/#': { qos: 1 },
        'devices/c2/#': { qos: 1 },
        'devices/c1/status': { qos: 2 },
        'devices/+/#': { qos: 0 },
      }),
    ).toEqual([1, 128, 2, 128])
    await client.endAsync()
  })

  it('refuses # when only devices/c1/# is allowed', async () => {
    const client = await connected(at.mqttUrl, await as('c1'))
    expect(await subackCodes(client, { '#': { qos: 0 } })).toEqual([128])
    expect(await subackCodes(client, { '$SYS/#': { qos: 0 } })).toEqual([128])
    await client.endAsync()
  })

  it('grants nothing to a token without an acl claim', async () => {
    const client = await connected(at.mqttUrl, await as('bare', { acl: undefined }))
    expect(await subackCodes(client, { 'devices/bare/#': { qos: 0 } })).toEqual([128])
    await client.endAsync()
  })

  it('never delivers a retained message outside the ACL', async () => {
    const admin = await connected(at.mqttUrl, await as('admin1', { acl: ALL }))
    await admin.publishAsync('devices/c9/secret', 'retained-secret', { qos: 1, retain: true })
    await admin.publishAsync('devices/c9/open', 'retained-open', { qos: 1, retain: true })
    const reader = await connected(at.mqttUrl, await as('c9', { acl: { pub: [], sub: ['devices/c9/open'] } }))
    const first = nextMessage(reader)
    expect(await subackCodes(reader, { 'devices/c9/open': { qos: 1 }, 'devices/c9/secret': { qos: 1 } })).toEqual([1, 128])
    expect(await first).toEqual({ topic: 'devices/c9/open', payload: 'retained-open', retain: true })
    await Promise.all([admin.endAsync(), reader.endAsync()])
  })
})

describe('live sessions end with their credential', () => {
  it('disconnects a live client within 1 s of its jti being revoked, refuses it, and accepts it after unrevoke', async () => {
    const t = await token({ sub: 'r1', jti: 'jti-revoke-me' })
    const client = await connected(at.mqttUrl, { clientId: 'r1', username: 'r1', password: t })
    const gone = closed(client)
    const started = Date.now()
    exchange.revoke('jti-revoke-me', nowSeconds() + 300)
    await gone
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await connackOf(at.mqttUrl, { clientId: 'r1', username: 'r1', password: t })).toBe(4)
    const refusal = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'CONNECT refused' && l.jti === 'jti-revoke-me')
    expect(refusal).toMatchObject({ level: 40, code: 'ERR_TOKEN_REVOKED', connack: 4, client_id: 'r1', broker: BROKER })
    const unrevoked = new Promise<void>((resolve) => broker.follower?.on('unrevoked', (jti) => jti === 'jti-revoke-me' && resolve()))
    exchange.unrevoke('jti-revoke-me')
    await unrevoked
    expect(await connackOf(at.mqttUrl, { clientId: 'r1', username: 'r1', password: t })).toBe(0)
  })

  it('disconnects a live client when its token expires', async () => {
    const exp = nowSeconds() + 2
    const client = await connected(at.mqttUrl, await as('e1', { exp }))
    await closed(client)
    const late = Date.now() - exp * 1000
    expect(late).toBeGreaterThanOrEqual(-50)
    expect(late).toBeLessThan(1000)
  })
})

describe('mosquitto-clients (a client nobody here wrote)', () => {
  const port = (): string => String(at.mqttPort)

  it('mosquitto_pub with a valid token publishes and mosquitto_sub receives', async () => {
    const subToken = await token({ sub: 'mq-sub', acl: { pub: [], sub: ['devices/#'] } })
    const pubToken = await token({ sub: 'mq-pub' })
    // mosquitto 2.0 sends a password only with a username (MQTT 3.1.1 §3.1.2.9): -u = the client id.
    // stdbuf: line-buffered stdout, so the -d "received SUBACK" line arrives before we publish
    const sub = spawnTool('stdbuf', [
      '-oL',
      'mosquitto_sub',
      '-h',
      '127.0.0.1',
      '-p',
      port(),
      '-i',
      'mq-sub',
      '-u',
      'mq-sub',
      '-P',
      subToken,
      '-t',
      'devices/mq-pub/#',
      '-C',
      '1',
      '-W',
      '10',
      '-v',
      '-d',
    ])
    await sub.printed('SUBACK')
    const pub = await spawnTool('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port(),
      '-i',
      'mq-pub',
      '-u',
      'mq-pub',
      '-P',
      pubToken,
      '-t',
      'devices/mq-pub/hello',
      '-m',
      'from mosquitto',
      '-q',
      '1',
    ]).exited
    expect(pub).toMatchObject({ code: 0, stderr: '' })
    const received = await sub.exited
    expect(received.code).toBe(0)
    expect(received.stdout).toContain('devices/mq-pub/hello from mosquitto')
  })

  it('mosquitto_sub receives a retained message mosquitto_pub left', async () => {
    const run = await spawnTool('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port(),
      '-i',
      'mq-ret',
      '-u',
      'mq-ret',
      '-P',
      await token({ sub: 'mq-ret' }),
      '-t',
      'devices/mq-ret/state',
      '-m',
      'on',
      '-q',
      '1',
      '-r',
    ]).exited
    expect(run).toMatchObject({ code: 0, stderr: '' })
    const reader = await token({ sub: 'mq-read', acl: { pub: [], sub: ['devices/mq-ret/#'] } })
    const read = await spawnTool('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      port(),
      '-i',
      'mq-read',
      '-u',
      'mq-read',
      '-P',
      reader,
      '-t',
      'devices/mq-ret/#',
      '-C',
      '1',
      '-W',
      '10',
      '-v',
    ]).exited
    expect(read).toMatchObject({ code: 0, stdout: 'devices/mq-ret/state on\n' })
  })

  it('mosquitto_pub with a token for another client id is refused (not authorised)', async () => {
    const run = await spawnTool('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port(),
      '-i',
      'mq-x',
      '-u',
      'mq-x',
      '-P',
      await token({ sub: 'mq-pub' }),
      '-t',
      'devices/mq-pub/hello',
      '-m',
      'x',
    ]).exited
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/not authori[sz]ed/i)
  })
})
